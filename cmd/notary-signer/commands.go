package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/notary-go/notary/signer/keydb"
)

// runMigrate is the migrate command: apply the key database schema.
func runMigrate(ctx context.Context, args []string, e env) error {
	_, cfg, log, err := parseSubcommand("migrate", args, e)
	if err != nil {
		return err
	}
	if err := migrateSchema(ctx, cfg, e, log); err != nil {
		return err
	}
	if cfg.usesKeyDB() {
		fmt.Fprintf(e.stdout, "key database schema is up to date (%s)\n", cfg.backend)
	}
	return nil
}

// migrateSchema creates or upgrades the private_keys table and touches
// nothing else: no passphrase is needed, no key is read.
func migrateSchema(ctx context.Context, cfg *config, e env, log *slog.Logger) error {
	if !cfg.usesKeyDB() {
		fmt.Fprintf(e.stdout, "nothing to migrate: the %s backend has no database schema\n", cfg.backend)
		return nil
	}
	// keydb.OpenSQL applies the migrations; the DB it returns is not used,
	// so a placeholder passphrase is enough.
	_, sqlDB, err := openKeyDB(ctx, cfg, keydb.Options{
		DefaultAlias: cfg.defaultAlias,
		Passphrases:  keydb.ConstantPassphrase("unused: migrate only"),
	})
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	log.Info("key database schema is up to date", "backend", cfg.backend)
	return nil
}

// runRotateAlias is the rotate-alias command: re-encrypt every key under
// a new passphrase alias while signers keep serving.
func runRotateAlias(ctx context.Context, args []string, e env) error {
	f, cfg, log, err := parseSubcommand("rotate-alias", args, e)
	if err != nil {
		return err
	}
	if !cfg.usesKeyDB() {
		return fmt.Errorf("rotate-alias needs an SQL key database (storage.backend mysql, postgres or sqlite3), not %s", cfg.backend)
	}
	if len(f.newAlias) > keydb.MaxAliasLen {
		return fmt.Errorf("-new-alias is longer than %d bytes", keydb.MaxAliasLen)
	}
	// The new alias's passphrase must be set: OpenSQL checks the default
	// alias's passphrase before anything else.
	db, sqlDB, err := openKeyDB(ctx, cfg, keydb.Options{
		DefaultAlias: f.newAlias,
		Passphrases:  keydb.EnvPassphrases(e.lookup),
		CacheSize:    -1,
	})
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if f.newAlias != cfg.defaultAlias {
		log.Warn("storage.default_alias is not the new alias: signers using this config keep writing new keys under the old one",
			"default_alias", cfg.defaultAlias, "new_alias", f.newAlias)
	}
	log.Info("re-encrypting keys", "new_alias", f.newAlias, "passphrase_env", keydb.EnvVar(f.newAlias))
	start := time.Now()
	n, err := db.Reencrypt(ctx, f.newAlias)
	if err != nil {
		return fmt.Errorf("re-encrypted %d keys, then: %w (rerun to continue)", n, err)
	}
	log.Info("re-encryption done", "new_alias", f.newAlias, "keys", n, "duration", time.Since(start).String())
	fmt.Fprintf(e.stdout, "re-encrypted %d keys under alias %q\n", n, f.newAlias)
	return nil
}
