-- Upstream ships no SQLite schema; these are its PostgreSQL tables in SQLite
-- types. Times are TEXT in SQLite's format 4 (see dialect.go); AUTOINCREMENT
-- keeps changefeed ids from ever being reused.
CREATE TABLE IF NOT EXISTS tuf_files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    gun        VARCHAR(255) NOT NULL,
    role       VARCHAR(255) NOT NULL,
    version    INTEGER NOT NULL,
    data       BLOB NOT NULL,
    sha256     CHAR(64) NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS idx_gun ON tuf_files (gun, role, version);

CREATE INDEX IF NOT EXISTS tuf_files_sha256_idx ON tuf_files (sha256);

CREATE TABLE IF NOT EXISTS change_category (
    category VARCHAR(20) PRIMARY KEY
);

INSERT OR IGNORE INTO change_category (category) VALUES ('update'), ('deletion');

CREATE TABLE IF NOT EXISTS changefeed (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at DATETIME NOT NULL,
    gun        VARCHAR(255) NOT NULL,
    version    INTEGER NOT NULL,
    sha256     CHAR(64) NULL,
    category   VARCHAR(20) NOT NULL DEFAULT 'update' REFERENCES change_category (category)
);

CREATE INDEX IF NOT EXISTS idx_changefeed_gun ON changefeed (gun, id);
