package risk

import (
	"context"
	"slices"
	"testing"

	"github.com/paylink/paylink/internal/riskmodel"
)

// TestEnginesFollowTheActiveModel: two engines (two replicas) score with
// DefaultModel, keep their copy until riskmodel.RefreshEvery has passed
// after an activation, then both score with the activated version and
// name it in the decision (payment_risk.model).
func TestEnginesFollowTheActiveModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newEngineFixture(t)
	f.merchant(t, "mer_model")
	engines := []*Engine{f.engine(), f.engine()}
	screen := func(e *Engine) Decision {
		t.Helper()
		a := shopper("mer_model")
		a.Fingerprint = "fp" + a.ID // no velocity: only the model's other features
		d, err := e.Screen(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i, e := range engines {
		if d := screen(e); d.Model != riskmodel.DefaultModel.Version || d.Outcome != Allow {
			t.Fatalf("engine %d before any training: %+v; want the default model, allow", i, d)
		}
	}
	// a version that finds every new customer elevated
	var version int64
	if err := f.db.Pool.QueryRow(ctx, `INSERT INTO risk_models (bias, weights, reason_at, auc, previous_auc,
		fraud_count, legit_count, heldout_count, created_at, active)
		VALUES (-4, '{"new_customer": 5}', 1, 0.9, 0.5, 100, 300, 80, $1, true) RETURNING version`, f.now).Scan(&version); err != nil {
		t.Fatal(err)
	}
	name := riskmodel.VersionName(version)
	f.now = f.now.Add(riskmodel.RefreshEvery - 1)
	if d := screen(engines[0]); d.Model != riskmodel.DefaultModel.Version {
		t.Fatalf("within the refresh interval: %+v; want the copy it had", d)
	}
	f.now = f.now.Add(1)
	for i, e := range engines {
		d := screen(e)
		if d.Model != name || d.Level != "elevated" || d.Outcome != Review || !slices.Contains(d.Reasons, NewCustomer) {
			t.Fatalf("engine %d after the interval: %+v; want %s scoring a new customer elevated", i, d, name)
		}
	}
}
