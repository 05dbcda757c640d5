package postgres

// MigrateFS and ForceFS let tests run Migrate and Force on migrations of
// their own.
var (
	MigrateFS = migrateFS
	ForceFS   = forceFS
)
