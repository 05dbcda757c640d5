package walletapp

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

type renamePasskeyRequest struct {
	Name string `json:"name"`
}

// renamePasskey is PATCH /v1/wallet/passkeys/{id}: the user names a
// passkey of theirs.
func (s *Server) renamePasskey(c *gin.Context) error {
	var in renamePasskeyRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	u := &currentSession(c).User
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		p, err := s.passkeys.Rename(ctx, tx, u.ID, c.Param("id"), in.Name)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, p.ToWire(), nil
	})
}
