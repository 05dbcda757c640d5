package merchantapi

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

type sendLinkRequest struct {
	Email     string `json:"email"`
	Reminders bool   `json:"reminders"`
}

type sendLinkAnswer struct {
	Link      string `json:"link"`
	Email     string `json:"email"`
	Reminders bool   `json:"reminders"`
}

// sendLink is POST /v1/payment_links/{id}/send: the link e-mailed to a
// shopper now and, with reminders, again before it expires (see
// links.Send).
func (s *Server) sendLink(c *gin.Context) error {
	var in sendLinkRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		sent, err := s.links.Send(ctx, tx, m.ID, m.Name, c.Param("id"), in.Email, in.Reminders)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, sendLinkAnswer{Link: sent.Link.ID, Email: sent.Email, Reminders: sent.Reminders}, nil
	})
}
