package admin

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/http"

	"github.com/territoires-ouverts/tno/internal/authz"
)

// openAPI is the API's OpenAPI 3.1 document, written by hand: a test
// checks that it describes every operation apiTable registers, and no
// other.
//
//go:embed openapi.json
var openAPI []byte

// The document's URLs, relative to the issuer's root; openAPIDocument
// puts the issuer's path in front.
const (
	openAPIServer   = `"url": "/api/v1"`
	openAPITokenURL = `"tokenUrl": "/token"`
)

// openAPIDocument returns the document for an issuer whose path is base.
func openAPIDocument(base string) ([]byte, error) {
	doc := openAPI
	for _, s := range []string{openAPIServer, openAPITokenURL} {
		if bytes.Count(doc, []byte(s)) != 1 {
			return nil, fmt.Errorf("admin: openapi.json must hold %s once", s)
		}
		i := bytes.IndexByte([]byte(s), '/')
		doc = bytes.Replace(doc, []byte(s), []byte(s[:i]+base+s[i:]), 1)
	}
	return doc, nil
}

// apiOpenAPI serves the OpenAPI document (no token needed).
func (c *Console) apiOpenAPI(w http.ResponseWriter, r *http.Request, _ authz.Actor) error {
	doc, err := openAPIDocument(c.base)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(doc)
	return nil
}
