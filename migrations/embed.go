// Package migrations holds the SQL schema, the source of truth for every
// table, as numbered golang-migrate files embedded into the binary.
package migrations

import "embed"

// FS holds the *.sql migration files.
//
//go:embed *.sql
var FS embed.FS
