package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Newest builds the SQL of one page of a newest-first list of one owner's
// rows (a merchant's, a user's), such that PostgreSQL reads one range of the
// owner's index, (owner, id DESC) or (owner, column, id DESC), whatever it
// estimates and whether or not it keeps a generic plan.
//
// The order asked for is one only that index gives: the last key column is
// written as a range of one value and the order starts with it. With
// owner = $1 and ORDER BY id DESC, PostgreSQL may walk the primary key back
// through every newer row of other owners, expecting one of the owner's
// among every few (BENCHMARKS.md, stop 32: 33,412 buffers for a big
// merchant's first page of events). Optional conditions are only written
// when given: the generic plan of a cursor written as "$2 is empty or
// id < $2" cannot start the scan at the cursor, so a deep page read every
// newer row of the owner.
type Newest struct {
	selectFrom string
	keys       []key // the owner, then the columns narrowed to
	conds      []string
	args       []any
}

// key is an index column the page is narrowed to, and its placeholder.
type key struct{ column, param string }

// NewestOf starts a page of selectFrom ("SELECT … FROM table") of the rows
// whose owner column is ownerID.
func NewestOf(selectFrom, owner string, ownerID any) *Newest {
	q := &Newest{selectFrom: selectFrom}
	q.keys = []key{{owner, q.Arg(ownerID)}}
	return q
}

// Arg adds v to the arguments and returns its placeholder, for a condition
// of Where.
func (q *Newest) Arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// Within narrows the page to the rows whose column is v, the next key column
// of the index read: (owner, column, id DESC). An empty v leaves it as it is.
func (q *Newest) Within(column, v string) *Newest {
	if v != "" {
		q.keys = append(q.keys, key{column, q.Arg(v)})
	}
	return q
}

// Equal keeps the rows whose column is v, checked on the rows the index range
// gives. An empty v keeps every row.
func (q *Newest) Equal(column, v string) *Newest {
	if v != "" {
		q.Where(column + " = " + q.Arg(v))
	}
	return q
}

// Where adds a condition checked on the rows the index range gives; its
// values go through Arg.
func (q *Newest) Where(cond string) *Newest {
	q.conds = append(q.conds, cond)
	return q
}

// Before starts the page after the row with id startingAfter, or at the
// newest row when it is "".
func (q *Newest) Before(startingAfter string) *Newest {
	if startingAfter != "" {
		q.conds = append(q.conds, "id < "+q.Arg(startingAfter))
	}
	return q
}

// SQL returns the query of up to rows rows, the limit a literal so that
// PostgreSQL keeps one generic plan per page size, and its arguments.
func (q *Newest) SQL(rows int) (string, []any) {
	where := make([]string, 0, len(q.keys)+len(q.conds))
	last := q.keys[len(q.keys)-1]
	for _, k := range q.keys[:len(q.keys)-1] {
		where = append(where, k.column+" = "+k.param)
	}
	where = append(where, last.column+" >= "+last.param+" AND "+last.column+" <= "+last.param)
	where = append(where, q.conds...)
	return q.selectFrom + " WHERE " + strings.Join(where, " AND ") + " ORDER BY " + last.column + ", id DESC LIMIT " +
		strconv.Itoa(rows), q.args
}

// PageNewest runs q for up to limit rows and scans them, with whether more
// follow.
func PageNewest[T any](ctx context.Context, db DBTX, limit int, scan pgx.RowToFunc[T], q *Newest) ([]T, bool, error) {
	sql, args := q.SQL(limit + 1)
	return PageOf(ctx, db, limit, scan, sql, args...)
}
