package apps

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func TestSectorIdentifier(t *testing.T) {
	tests := []struct {
		name    string
		uris    []string
		want    string
		wantErr bool
	}{
		{"one URI", []string{"https://rh.ville-exemple.fr/callback"}, "rh.ville-exemple.fr", false},
		{"port and case ignored", []string{"https://RH.Ville-Exemple.fr:8443/cb", "https://rh.ville-exemple.fr/callback"}, "rh.ville-exemple.fr", false},
		{"loopback IPv4", []string{"http://127.0.0.1:9/cb", "http://127.0.0.1:8080/cb2"}, "127.0.0.1", false},
		{"loopback IPv6", []string{"http://[::1]:8080/cb"}, "::1", false},
		{"localhost is not 127.0.0.1", []string{"http://localhost:9/cb", "http://127.0.0.1:9/cb"}, "", true},
		{"two hosts", []string{"https://rh.ville-exemple.fr/cb", "https://paie.ville-exemple.fr/cb"}, "", true},
		{"subdomain is another host", []string{"https://ville-exemple.fr/cb", "https://rh.ville-exemple.fr/cb"}, "", true},
		{"no URI", nil, "", true},
		{"no host", []string{"urn:ietf:wg:oauth:2.0:oob"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SectorIdentifier(storage.Application{RedirectURIs: tt.uris})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("SectorIdentifier = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
