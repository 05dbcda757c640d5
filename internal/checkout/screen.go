package checkout

import (
	"context"
	"errors"
	"time"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/riskmodel"
)

// Authorization is a card authorization with the risk decision taken
// before it (nil when the payment was not screened). A blocked attempt's
// authorization is a decline (payment_blocked) the processor never saw.
type Authorization struct {
	processor.Authorization
	Risk *risk.Decision
}

// Screening is who attempts a payment and on what, as screening needs it
// beyond the amount and the card.
type Screening struct {
	MerchantID string
	IP         string
	Email      string
	Link, Form string
	Realm      string
	Metadata   map[string]string
}

// WithRisk makes s screen the payments authorized with AuthorizeScreened
// and RecordWallet through engine; fingerprint gives a card number's
// fingerprint (processor.Fingerprint under the processor's secret), which
// screening needs before the processor is asked.
func (s *Service) WithRisk(engine *risk.Engine, fingerprint func(number string) string) *Service {
	s.risk, s.fingerprint = engine, fingerprint
	return s
}

// AuthorizeScreened is AuthorizeAccepted with screening (API.md Part 3):
// after the merchant's acceptance and the card's own checks, the attempt
// is screened; a block answers a payment_blocked decline without asking
// the processor, a challenge asks the processor for one whatever the
// card. Every 402 it leads to counts as a failed attempt of its IP and
// card. key names the attempt, as for AuthorizeAccepted.
func (s *Service) AuthorizeScreened(ctx context.Context, acc merchant.Acceptance, amount money.Amount, key string, card processor.Card, sc Screening) (Authorization, error) {
	if s.risk == nil {
		return s.AuthorizeAccepted(ctx, acc, amount, key, card)
	}
	brand, code, err := s.acceptCard(acc, amount, &card)
	att := &risk.Attempt{ID: key, MerchantID: sc.MerchantID, IP: sc.IP, Email: sc.Email, Method: string(merchant.MethodCard),
		Brand: string(brand), Fingerprint: s.fingerprint(card.Number), Amount: amount.Minor,
		Currency: string(amount.Currency), Link: sc.Link, Form: sc.Form, Realm: sc.Realm, Metadata: sc.Metadata,
		TestScore: riskmodel.TestCardScore(card.Number)}
	if err != nil {
		if errors.Is(err, merchant.ErrCardBrandNotAccepted) { // a 402 too
			s.risk.Failed(att)
		}
		return Authorization{}, err
	}
	if code != "" {
		s.risk.Failed(att)
		return Authorization{}, CardError(code)
	}
	d, err := s.risk.Screen(ctx, att)
	if err != nil {
		return Authorization{}, err
	}
	out := Authorization{Risk: &d}
	switch d.Outcome {
	case risk.Block:
		s.risk.Failed(att)
		out.Authorization = processor.Authorization{ID: "risk:" + key, Status: processor.Declined,
			DeclineCode: processor.CodePaymentBlocked, Card: processor.Details{Brand: brand,
				Last4: processor.Last4(card.Number), ExpMonth: card.ExpMonth, ExpYear: card.ExpYear,
				Fingerprint: att.Fingerprint}}
		return out, nil
	case risk.Challenge:
		card.Challenge = true
	}
	a, err := s.proc.Authorize(ctx, key, amount, card)
	if err != nil {
		return Authorization{}, unavailable(err)
	}
	if a.Status == processor.Declined {
		s.risk.Failed(att)
	}
	out.Authorization = a
	return out, nil
}

// ScreenWallet screens a wallet payment of amount by a wallet user with
// e-mail email (nil decision when s does not screen). Its outcome goes to
// RecordWallet.
func (s *Service) ScreenWallet(ctx context.Context, amount money.Amount, attemptID string, sc Screening) (*risk.Decision, error) {
	if s.risk == nil {
		return nil, nil
	}
	d, err := s.risk.Screen(ctx, &risk.Attempt{ID: attemptID, MerchantID: sc.MerchantID, IP: sc.IP, Email: sc.Email,
		Method: MethodWallet, Amount: amount.Minor, Currency: string(amount.Currency), Link: sc.Link,
		Form: sc.Form, Realm: sc.Realm, Metadata: sc.Metadata})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// saveRisk stores p's decision through w, in p's transaction, with the
// review it opens when it reviews a payment that succeeded.
func saveRisk(ctx context.Context, w postgres.Execer, p *Payment, now time.Time) (err error) {
	if p.Risk != nil {
		p.ReviewID, err = risk.Record(ctx, w, p.MerchantID, p.ID, p.Status == Succeeded, p.Risk, now)
	}
	return err
}
