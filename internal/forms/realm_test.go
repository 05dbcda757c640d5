package forms

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

func TestFormRealms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO merchants (id, name, email, password_hash) VALUES ('mer_a', 'Shop', 'a@shop.test', 'x')`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	base, _ := url.Parse("http://paylink.test")
	svc := NewService(base, func() time.Time { now = now.Add(time.Millisecond); return now })
	amount := int64(500)
	create := func(realm string) (*Form, error) {
		var f *Form
		err := db.WithTx(ctx, func(tx pgx.Tx) (err error) {
			f, err = svc.Create(ctx, tx, "mer_a", NewForm{Title: "Beans", Currency: money.USD, Amount: &amount,
				AllowedOrigins: []string{"https://shop.test"}, Realm: realm})
			return err
		})
		return f, err
	}
	eu1, err := create("eu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create(""); err != nil {
		t.Fatal(err)
	}
	eu2, err := create("eu")
	if err != nil {
		t.Fatal(err)
	}
	_, err = create("Europe!")
	if e, ok := apperr.As(err); !ok || e.Code != "realm_invalid" {
		t.Fatalf("a bad realm: %v; want realm_invalid", err)
	}
	f, err := ParseFilter("", "eu")
	if err != nil {
		t.Fatal(err)
	}
	got, more, err := svc.Find(ctx, db.Pool, "mer_a", f, 10, "")
	if err != nil || more || len(got) != 2 || got[0].ID != eu2.ID || got[1].ID != eu1.ID {
		t.Fatalf("Find realm eu = %d forms, %v; want eu2 then eu1", len(got), err)
	}
	if w := svc.ToWire(got[0]); w.Realm == nil || *w.Realm != "eu" {
		t.Errorf("wire realm = %v", w.Realm)
	}
	if all, _, err := svc.Find(ctx, db.Pool, "mer_a", Filter{Status: Active}, 10, ""); err != nil || len(all) != 3 {
		t.Errorf("Find active = %d forms, %v; want 3", len(all), err)
	}
}
