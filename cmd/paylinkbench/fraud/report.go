package fraud

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// tally counts the attempts of one class (or kind) by what became of them.
type tally struct {
	attempts int
	// refused: a 402 before screening (a mistyped number, a past expiry):
	// no payment was made, nothing charged.
	refused  int
	screened int // attempts that made a payment, so were screened
	blocked  int
	reviewed int
	// through: charged with no review (allowed and succeeded); amount is
	// their sum in minor units.
	through int
	amount  int64
	// after and afterBlocked: a card tester's attempts after the
	// threshold, and how many of them were blocked.
	after, afterBlocked int
}

func (t *tally) add(o outcome, ms []merchantSetup, risk map[string]string) {
	t.attempts++
	blocked := o.ans.code == "payment_blocked"
	switch {
	case blocked:
		t.blocked++
		t.screened++
	case o.ans.payment == "":
		t.refused++
	default:
		t.screened++
		switch risk[o.ans.payment] {
		case "block":
			t.blocked++
			blocked = true
		case "review":
			t.reviewed++
		default:
			if o.ans.status == http.StatusOK {
				t.through++
				t.amount += price(ms[o.a.merchant].median, o.a.item)
			}
		}
	}
	if o.a.afterThreshold {
		t.after++
		if blocked {
			t.afterBlocked++
		}
	}
}

// share is n of the screened attempts, in percent.
func (t *tally) share(n int) float64 {
	if t.screened == 0 {
		return 0
	}
	return 100 * float64(n) / float64(t.screened)
}

func (t *tally) line(name string) string {
	return fmt.Sprintf("%-48s %5d attempts, %5d screened (%d refused before: bad number or expiry), blocked %d, reviewed %d: %.2f%% blocked or reviewed; %d charged unreviewed (%.2f USD)",
		name, t.attempts, t.screened, t.refused, t.blocked, t.reviewed, t.share(t.blocked+t.reviewed), t.through, float64(t.amount)/100)
}

// report prints per class and kind what screening did, with the targets.
func report(w io.Writer, done []outcome, risk map[string]string, ms []merchantSetup) {
	classes := map[string]*tally{}
	kinds := map[string]*tally{}
	for _, o := range done {
		for _, m := range []struct {
			into map[string]*tally
			key  string
		}{{classes, o.actor.class}, {kinds, o.actor.class + " (" + o.actor.kind + ")"}} {
			if m.into[m.key] == nil {
				m.into[m.key] = &tally{}
			}
			m.into[m.key].add(o, ms, risk)
		}
	}
	for _, class := range []string{Legit, CardTesting, Stolen, Slow} {
		t := classes[class]
		if t == nil {
			continue
		}
		fmt.Fprintln(w, "fraud "+t.line(class))
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			if strings.HasPrefix(k, class+" (") && class != Legit {
				fmt.Fprintln(w, "  "+kinds[k].line(k))
			}
		}
		switch class {
		case Legit:
			fmt.Fprintf(w, "  legitimate payments blocked or reviewed: %.2f%% (target <= 0.5%%)\n", t.share(t.blocked+t.reviewed))
		case CardTesting:
			after := 0.0
			if t.after > 0 {
				after = 100 * float64(t.afterBlocked) / float64(t.after)
			}
			fmt.Fprintf(w, "  after the threshold (%d failures over %d cards from the IP): %d of %d attempts blocked = %.2f%% (target >= 99%%)\n",
				testingFailures, testingCards, t.afterBlocked, t.after, after)
		case Stolen:
			fmt.Fprintf(w, "  stolen-card attempts blocked or reviewed: %.2f%% (target >= 80%%)\n", t.share(t.blocked+t.reviewed))
		case Slow:
			fmt.Fprintf(w, "  the slow attack got through: %d charges unreviewed (%.2f USD), %d of %d screened attempts\n",
				t.through, float64(t.amount)/100, t.through, t.screened)
		}
	}
}
