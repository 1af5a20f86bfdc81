package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets/openapi.json assets/templates/*.html assets/static/*
var assets embed.FS

func staticFS() fs.FS {
	sub, _ := fs.Sub(assets, "assets/static")
	return sub
}

// openAPI serves the OpenAPI 3 document of /api/v1 (no token needed).
func (s *Surface) openAPI(w http.ResponseWriter, r *http.Request) {
	b, _ := assets.ReadFile("assets/openapi.json")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
