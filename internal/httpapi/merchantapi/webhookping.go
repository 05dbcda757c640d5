package merchantapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
)

type testEndpointRequest struct{}

// testEndpoint is POST /v1/webhook_endpoints/{id}/test: a signed ping to
// that endpoint alone, answered with how it answered. It changes nothing,
// so it takes no Idempotency-Key.
func (s *Server) testEndpoint(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	var in testEndpointRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	r, err := s.webhooks.SendPing(c.Request.Context(), CurrentMerchant(c).ID, eid)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, r.ToWire())
	return nil
}
