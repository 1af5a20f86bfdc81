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

// openAPIDoc is the OpenAPI document and its (strong) ETag.
var openAPIDoc, openAPITag = func() ([]byte, string) {
	b, _ := assets.ReadFile("assets/openapi.json")
	return b, strongTag(b)
}()

// openAPI serves the OpenAPI 3 document of /api/v1 (no token needed), with
// its ETag like every answer of /api/v1.
func (s *Surface) openAPI(w http.ResponseWriter, r *http.Request) {
	answer(w, r, openAPITag, "application/json", openAPIDoc)
}
