package riskmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// HeldOut reports whether a payment belongs to the held-out set (one in
// five, by a hash of its id: the same split on every run).
func HeldOut(payment string) bool {
	h := fnv.New32a()
	h.Write([]byte(payment))
	return h.Sum32()%5 == 0
}

// Fit fits a logistic model over Names to examples by batch gradient
// descent on the mean log loss plus l2/2·‖w‖² (the bias is not
// penalised). Examples are grouped by feature vector first, so a pass
// costs the same for a thousand payments or a million.
func Fit(examples []Example, l2 float64, iterations int) Model {
	type group struct {
		x            []float64
		fraud, total float64
	}
	groups := map[string]*group{}
	for _, ex := range examples {
		x := make([]float64, len(Names))
		key := make([]byte, len(Names))
		for i, n := range Names {
			x[i] = ex.Features[n]
			key[i] = byte('0' + int(x[i]))
		}
		g := groups[string(key)]
		if g == nil {
			g = &group{x: x}
			groups[string(key)] = g
		}
		g.total++
		if ex.Fraud {
			g.fraud++
		}
	}
	n := float64(len(examples))
	w := make([]float64, len(Names))
	var b float64
	const rate = 1.0
	for range iterations {
		gw := make([]float64, len(Names))
		var gb float64
		for _, g := range groups {
			z := b
			for i, x := range g.x {
				z += w[i] * x
			}
			// Σ (σ(z) − y) over the group's examples
			d := g.total/(1+math.Exp(-z)) - g.fraud
			gb += d
			for i, x := range g.x {
				gw[i] += d * x
			}
		}
		b -= rate * gb / n
		for i := range w {
			w[i] -= rate * (gw[i]/n + l2*w[i])
		}
	}
	m := Model{Bias: b, Weights: map[string]float64{}, ReasonAt: DefaultModel.ReasonAt}
	for i, name := range Names {
		m.Weights[name] = w[i]
	}
	return m
}

// AUC is the area under m's ROC curve on examples: the probability that a
// fraud example has a higher probability than a legitimate one, ties
// counting half (NaN without both classes).
func AUC(m Model, examples []Example) float64 {
	type scored struct {
		p     float64
		fraud bool
	}
	s := make([]scored, len(examples))
	for i, ex := range examples {
		s[i] = scored{m.prob(ex.Features), ex.Fraud}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].p < s[j].p })
	var pos, neg, rankSum float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].p == s[i].p {
			j++
		}
		rank := float64(i+j+1) / 2 // mean 1-based rank of the tie
		for k := i; k < j; k++ {
			if s[k].fraud {
				pos++
				rankSum += rank
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Options tune Train.
type Options struct {
	MinPerClass int     // fewer fraud or legitimate labels than this: nothing is stored
	L2          float64 // the penalty of Fit
	Iterations  int     // the passes of Fit
	Force       bool    // activate the new version even when it is not better
}

// DefaultOptions are paylink risk train's defaults.
var DefaultOptions = Options{MinPerClass: 20, L2: 0.001, Iterations: 3000}

// Result is what Train did.
type Result struct {
	Fraud, Legit, HeldOut int     // labels found, and how many were held out
	Stored                bool    // a new version was stored
	Version               string  // its name
	AUC                   float64 // its held-out AUC
	Previous              string  // the model active before
	PreviousAUC           float64 // its AUC on the same held-out payments
	Activated             bool    // the new version is now the active one
	Why                   string  // one line saying what happened
}

// Train refits the model from the labels as of now, compares it with the
// active one on the held-out payments and stores it as a new version,
// active only when its AUC is higher (or opts.Force). With too few labels
// (or a held-out set lacking either class) it stores nothing.
func Train(ctx context.Context, db *postgres.DB, now time.Time, opts Options) (Result, error) {
	var r Result
	labels, err := Labels(ctx, db.Pool, now)
	if err != nil {
		return r, err
	}
	var train, held []Example
	heldFraud := 0
	for _, ex := range labels {
		if ex.Fraud {
			r.Fraud++
		} else {
			r.Legit++
		}
		if HeldOut(ex.Payment) {
			held = append(held, ex)
			if ex.Fraud {
				heldFraud++
			}
		} else {
			train = append(train, ex)
		}
	}
	r.HeldOut = len(held)
	if r.Fraud < opts.MinPerClass || r.Legit < opts.MinPerClass || heldFraud == 0 || heldFraud == len(held) {
		r.Why = fmt.Sprintf("too few labels (%d fraud, %d not fraud, %d held out with %d fraud; need %d of each class and both in the held-out set): nothing stored",
			r.Fraud, r.Legit, len(held), heldFraud, opts.MinPerClass)
		return r, nil
	}
	m := Fit(train, opts.L2, opts.Iterations)
	r.AUC = AUC(m, held)
	weights, err := json.Marshal(m.Weights)
	if err != nil {
		return r, err
	}
	err = db.WithTx(ctx, func(tx pgx.Tx) error {
		// one training at a time decides which version is active
		if _, err := tx.Exec(ctx, `LOCK TABLE risk_models IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		prev, _, _, err := Active(ctx, tx)
		if err != nil {
			return err
		}
		r.Previous, r.PreviousAUC = prev.Version, AUC(prev, held)
		r.Activated = opts.Force || r.AUC > r.PreviousAUC
		var version int64
		if err := tx.QueryRow(ctx, insertVersion, m.Bias, weights, m.ReasonAt, r.AUC, r.PreviousAUC,
			r.Fraud, r.Legit, len(held), now).Scan(&version); err != nil {
			return err
		}
		r.Version = VersionName(version)
		if r.Activated {
			if _, err := tx.Exec(ctx, `UPDATE risk_models SET active = false WHERE active`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE risk_models SET active = true WHERE version = $1`, version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("store risk model: %w", err)
	}
	r.Stored = true
	switch {
	case r.Activated && r.AUC > r.PreviousAUC:
		r.Why = fmt.Sprintf("%s stored and activated: its AUC beats %s's", r.Version, r.Previous)
	case r.Activated:
		r.Why = fmt.Sprintf("%s stored and activated by -force although its AUC does not beat %s's", r.Version, r.Previous)
	default:
		r.Why = fmt.Sprintf("%s stored but not activated: its AUC does not beat %s's, which stays active", r.Version, r.Previous)
	}
	return r, nil
}
