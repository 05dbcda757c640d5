package dashboard

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// landing is the front page: what Paylink is and where to go.
func (s *Server) landing(c *gin.Context) {
	s.render(c, http.StatusOK, "landing", nil, "", nil)
}

// operation is one route of the API reference.
type operation struct {
	Method, Path, Summary, Scope, Anchor string
	Public                               bool
}

// section is the operations under one path prefix ("/v1/payments").
type section struct {
	Title      string
	Operations []operation
}

// docs renders the OpenAPI document (/v1/openapi.json) as a page, on
// the server: each operation's method, path, summary, and what it needs.
func (s *Server) docs(c *gin.Context) {
	var doc struct {
		Info struct {
			Title, Version, Description string
		}
		Paths map[string]map[string]struct {
			Summary  string
			Security *[]map[string]any
			Scope    string `json:"x-paylink-scope"`
		}
	}
	if err := json.Unmarshal(s.OpenAPI(), &doc); err != nil {
		s.ErrorPage(c, err)
		return
	}
	bySection := map[string]*section{}
	for path, item := range doc.Paths {
		title := sectionOf(path)
		sec := bySection[title]
		if sec == nil {
			sec = &section{Title: title}
			bySection[title] = sec
		}
		for method, op := range item {
			sec.Operations = append(sec.Operations, operation{Method: strings.ToUpper(method), Path: path,
				Summary: op.Summary, Scope: op.Scope, Public: op.Security != nil && len(*op.Security) == 0,
				Anchor: method + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(path)})
		}
	}
	var out []section
	for _, sec := range bySection {
		sort.Slice(sec.Operations, func(i, j int) bool {
			a, b := sec.Operations[i], sec.Operations[j]
			if a.Path != b.Path {
				return a.Path < b.Path
			}
			return a.Method < b.Method
		})
		out = append(out, *sec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	s.render(c, http.StatusOK, "docs", nil, "", map[string]any{"Info": doc.Info, "Sections": out})
}

// sectionOf groups a path by its first meaningful segment:
// "/v1/payments/{id}" → "/v1/payments".
func sectionOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 2 && parts[0] == "v1" {
		return "/v1/" + parts[1]
	}
	return "/" + parts[0]
}
