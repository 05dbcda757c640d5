package checkout

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// TestPaymentRowsTheDatabaseRefuses: whatever Go code does, PostgreSQL
// refuses a payment row that breaks one of its rules (migration 0016
// folded them into payments_row_valid), and takes the valid ones.
func TestPaymentRowsTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO users (id, email, first_name, last_name, phone, password_hash)
		VALUES ('usr_x', 'u@x.test', 'U', 'X', '+15550000000', 'x')`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  string // columns = values changed from a valid card payment of a link
		ok   bool
	}{
		{"a valid card payment", "", true},
		{"a valid failed payment without card details", "status = 'failed', card_last4 = NULL, failure_code = 'card_declined'", true},
		{"a wallet payment", "method_type = 'wallet', wallet_user_id = 'usr_x', card_last4 = NULL", true},
		{"a signed link's reference", "payment_link_id = NULL, merchant_reference = 'order-17.a:b_c'", true},
		{"a zero amount", "amount = 0", false},
		{"a lower-case currency", "currency = 'usd'", false},
		{"an unknown status", "status = 'paid'", false},
		{"last4 with letters", "card_last4 = '42a2'", false},
		{"an unknown challenge outcome", "challenge_outcome = 'maybe'", false},
		{"a reference with a space", "payment_link_id = NULL, merchant_reference = 'order 17'", false},
		{"two sources", "merchant_reference = 'order-17'", false},
		{"a refund of a failed payment", "status = 'failed', amount_refunded = 1", false},
		{"a wallet payment without its user", "method_type = 'wallet'", false},
		{"a card payment naming a wallet user", "wallet_user_id = 'usr_x'", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			payID := id.New("pay")
			set := ""
			if tc.set != "" {
				set = "UPDATE p SET " + tc.set + ";"
			}
			// Build the row in a temporary table so each case changes
			// only what it names, then insert it.
			err := db.WithTx(ctx, func(tx pgx.Tx) error {
				for _, q := range []string{
					fmt.Sprintf(`CREATE TEMPORARY TABLE p ON COMMIT DROP AS SELECT '%s'::text AS id, 'mer_x'::text AS merchant_id,
						'plink_x'::text AS payment_link_id, NULL::text AS merchant_reference, 2500::bigint AS amount,
						'USD'::text AS currency, 'succeeded'::text AS status, 0::bigint AS amount_refunded, NULL::text AS failure_code,
						'card'::text AS method_type, NULL::text AS wallet_user_id, '4242'::text AS card_last4,
						NULL::text AS challenge_outcome`, payID),
					set,
					`INSERT INTO payments (id, merchant_id, payment_link_id, merchant_reference, amount, currency, status,
						amount_refunded, failure_code, method_type, wallet_user_id, card_last4, challenge_outcome,
						customer_email, customer_name, created_at, updated_at)
					 SELECT id, merchant_id, payment_link_id, merchant_reference, amount, currency, status, amount_refunded,
						failure_code, method_type, wallet_user_id, card_last4, challenge_outcome, 'a@x.test', 'A', now(), now()
					 FROM p`,
				} {
					if q == "" {
						continue
					}
					if _, err := tx.Exec(ctx, q); err != nil {
						return err
					}
				}
				return nil
			})
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && !postgres.IsCheckViolation(err, "payments_row_valid"):
				t.Fatalf("insert = %v; want a payments_row_valid violation", err)
			}
		})
	}
}
