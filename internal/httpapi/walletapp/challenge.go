package walletapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/wire"
)

var errOutcomeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "outcome_invalid", Param: "outcome",
	Message: "outcome must be \"approve\" or \"fail\"."}

// topUpAnswer is a top-up with, while it waits for the issuer's
// challenge, where to answer it (as at checkout).
type topUpAnswer struct {
	wire.WalletTransaction
	NextAction *nextAction `json:"next_action,omitempty"`
}

type nextAction struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// challengePath is the page where the user answers top-up txnID's
// challenge.
func challengePath(txnID string) string { return "/wallet/topups/" + txnID + "/challenge" }

// topUpChallenged records a top-up whose authorization waits for the
// issuer's challenge and answers it, 200 requires_action, with the
// challenge page as next_action, with sc's decision stored beside it.
// Nothing is credited until it is approved.
func (s *Server) topUpChallenged(c *gin.Context, u *wallet.User, amount money.Amount, auth processor.Authorization, sc walletrisk.Screening) error {
	details := wallet.Card{Brand: string(auth.Card.Brand), Last4: auth.Card.Last4}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		t, err := s.wallet.TopUpChallenged(ctx, tx, u, amount, details, auth.ID)
		if err != nil {
			return 0, nil, err
		}
		if err := walletrisk.Record(ctx, tx, t, sc, s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, topUpAnswer{WalletTransaction: t.ToWire(),
			NextAction: &nextAction{Type: "challenge", URL: s.baseURL.String() + challengePath(t.ID)}}, nil
	})
}

type challengeRequest struct {
	Outcome string `json:"outcome"`
}

// answerTopUpChallenge is POST /v1/wallet/topups/{id}/challenge: ask the
// processor to complete the authorization, then record the outcome in one
// transaction under the row's lock, so approving twice (a double click, a
// second tab, a replica) credits once. A top-up no longer waiting is
// answered as it is.
func (s *Server) answerTopUpChallenge(c *gin.Context) error {
	var in challengeRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if in.Outcome != "approve" && in.Outcome != "fail" {
		return errOutcomeInvalid
	}
	u := &CurrentSession(c).User
	if replayed, err := s.edge.PrecheckIdempotency(c, u.ID); err != nil || replayed {
		return err
	}
	ctx := c.Request.Context()
	t, err := s.wallet.TopUpOf(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	auth := processor.Authorization{ID: t.Reference, Status: processor.Declined}
	if t.Status == wallet.StatusRequiresAction {
		auth, err = s.processor.Authenticate(ctx, "wallet-challenge:"+t.ID+":"+in.Outcome, t.Reference, in.Outcome == "approve")
		if err != nil {
			return errProcessorUnavailable.Wrap(err)
		}
	}
	var changed bool
	err = s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		t, changed, err = s.wallet.CompleteTopUp(ctx, tx, u, t.ID, auth.Status == processor.Authorized, auth.DeclineCode)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, topUpAnswer{WalletTransaction: t.ToWire()}, nil
	})
	if err != nil || !changed || t.Status != wallet.StatusSucceeded {
		return err
	}
	if err := s.wallet.CapturePending(ctx, s.processor, t.Reference); err != nil {
		s.log.WarnContext(ctx, "top-up capture deferred to the sweep", "err", err, "request_id", edge.RequestID(c))
	}
	return nil
}

type challengePageData struct {
	ID, Amount, Card string
}

// topUpChallengePage is the simulated issuer's page for a challenged
// top-up: approve or fail. A top-up no longer waiting goes back to the
// wallet; without a session, to log in first.
func (s *Server) topUpChallengePage(c *gin.Context) {
	sess, err := s.SessionFromCookie(c)
	if err != nil {
		c.Redirect(http.StatusSeeOther, "/wallet/login?next="+challengePath(c.Param("id")))
		return
	}
	t, err := s.wallet.TopUpOf(c.Request.Context(), sess.User.ID, c.Param("id"))
	if err != nil || t.Status != wallet.StatusRequiresAction {
		c.Redirect(http.StatusSeeOther, "/wallet")
		return
	}
	card := ""
	if t.CardBrand != nil && t.CardLast4 != nil {
		card = wallet.Card{Brand: *t.CardBrand, Last4: *t.CardLast4}.Words()
	}
	s.page(c, http.StatusOK, "wallet-challenge", challengePageData{ID: t.ID, Amount: t.Amount.String(), Card: card})
}
