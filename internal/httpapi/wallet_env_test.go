package httpapi

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wallet"
)

// testOrigin is the base URL's origin in HTTP tests, and the passkeys'.
const testOrigin = "http://paylink.test"

// walletDeps adds the wallet's services to newEnv's Deps.
func walletDeps(t *testing.T, d *Deps, db *postgres.DB, rdb *redis.Client, keyring *seal.Keyring) {
	t.Helper()
	pk, err := passkey.New(passkey.Config{RPID: "paylink.test", RPName: "Paylink", Origins: []string{testOrigin},
		Timeout: 2 * time.Minute}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := money.ParseSet(money.DefaultAccepted)
	if err != nil {
		t.Fatal(err)
	}
	d.Wallet = wallet.NewService(db, rdb, keyring, wallet.Config{SessionTTL: time.Hour, MaxFailures: 10, Lockout: 15 * time.Minute}, time.Now)
	d.Passkeys = pk
	d.Currencies = cur
	secret, _ := keyring.Derive(keyring.Current(), "processor-simulator")
	d.Processor = processor.NewSimulator(secret, time.Now)
	d.Limits.Login = limiter.Rate{Period: time.Minute, Limit: 10000}
}

func testKeyring(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.Parse(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
