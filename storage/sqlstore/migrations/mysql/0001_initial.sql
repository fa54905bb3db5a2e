-- Tables as upstream's migrations/server/mysql (0001-0005), minus GORM's
-- deleted_at (deletes are hard), with 64-bit ids and versions and
-- microsecond DATETIMEs (no 2038 limit). gun and role are VARBINARY so that
-- they compare byte for byte as on PostgreSQL and SQLite (upstream's utf8
-- collation folded case and trailing spaces). Every statement is idempotent:
-- MySQL DDL cannot be rolled back, so a failed run is simply repeated.
CREATE TABLE IF NOT EXISTS `tuf_files` (
    `id`         BIGINT NOT NULL AUTO_INCREMENT,
    `created_at` DATETIME(6) NOT NULL,
    `updated_at` DATETIME(6) NOT NULL,
    `gun`        VARBINARY(255) NOT NULL,
    `role`       VARBINARY(255) NOT NULL,
    `version`    BIGINT NOT NULL,
    `data`       LONGBLOB NOT NULL,
    `sha256`     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (`id`),
    UNIQUE KEY `gun` (`gun`, `role`, `version`),
    INDEX `sha256` (`sha256`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `change_category` (
    `category` VARCHAR(20) NOT NULL,
    PRIMARY KEY (`category`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO `change_category` (`category`) VALUES ('update'), ('deletion');

CREATE TABLE IF NOT EXISTS `changefeed` (
    `id`         BIGINT NOT NULL AUTO_INCREMENT,
    `created_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    `gun`        VARBINARY(255) NOT NULL,
    `version`    BIGINT NOT NULL,
    `sha256`     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL,
    `category`   VARCHAR(20) NOT NULL DEFAULT 'update',
    PRIMARY KEY (`id`),
    INDEX `idx_changefeed_gun` (`gun`, `id`),
    CONSTRAINT `changefeed_category_fk` FOREIGN KEY (`category`) REFERENCES `change_category` (`category`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
