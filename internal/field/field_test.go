package field_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/territoires-ouverts/tno/internal/field"
)

func TestList(t *testing.T) {
	a := field.New("username", field.Required, "is required")
	b := field.New("email", field.Invalid, "not an address: %q", "x").With("value", "x")
	err := fmt.Errorf("create person: %w", errors.Join(a, errors.New("other"), b))
	got := field.List(err)
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("List = %v, want [a b]", got)
	}
	if !field.Is(err) || field.Is(errors.New("x")) || field.List(nil) != nil {
		t.Error("Is/List on errors without field errors")
	}
	if b.Error() != `email: not an address: "x"` || b.Params["value"] != "x" {
		t.Errorf("b = %v %v", b, b.Params)
	}
}
