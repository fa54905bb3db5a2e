package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/notary-go/notary/image"
)

// imageFileConfig is what the image commands read from the client config
// file beyond fileConfig: the per-registry trust servers (our addition)
// and whether remote_server.url was set at all (fileConfig cannot tell a
// default from a choice).
type imageFileConfig struct {
	// TrustServers maps a registry host (host or host:port) to the trust
	// server of its images, e.g. {"registry.example.com":
	// "https://notary.example.com"}.
	TrustServers map[string]string `json:"trust_servers"`
	RemoteServer struct {
		URL string `json:"url"`
	} `json:"remote_server"`
}

// trustServers resolves which trust server each registry's images use:
// DOCKER_CONTENT_TRUST_SERVER, else trust_servers in the config file,
// else -s or remote_server.url when given, else https://<registry host>
// (Docker's rule).
func (a *app) trustServers(s *settings) (image.TrustServers, error) {
	ts := image.TrustServers{Env: a.getenv("DOCKER_CONTENT_TRUST_SERVER")}
	if s.ConfigFile != "" {
		data, err := os.ReadFile(s.ConfigFile)
		if err != nil {
			return ts, fmt.Errorf("error opening config file: %w", err)
		}
		var fc imageFileConfig
		if err := json.Unmarshal(data, &fc); err != nil {
			return ts, fmt.Errorf("error parsing config file %s: %w", s.ConfigFile, err)
		}
		ts.PerRegistry = fc.TrustServers
		if fc.RemoteServer.URL != "" {
			ts.Default = s.ServerURL
		}
	}
	if a.flags.server != "" {
		ts.Default = a.flags.server
	}
	if err := ts.Validate(); err != nil {
		return ts, err
	}
	return ts, nil
}
