package registry

import (
	"context"
	"path/filepath"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// A Credential authenticates to a registry: a user name and password
// (Basic, or the password grant of the token flow), or an identity token
// (OAuth2 refresh token, what `docker login` stores as "<token>"), or a
// registry token sent as is.
type Credential struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}

// IsZero reports whether c holds nothing.
func (c Credential) IsZero() bool { return c == Credential{} }

func (c Credential) oras() auth.Credential {
	return auth.Credential{Username: c.Username, Password: c.Password, RefreshToken: c.IdentityToken, AccessToken: c.RegistryToken}
}

// A CredentialFunc returns the credentials for registry host (host[:port]
// as written in image references); a zero Credential means anonymous.
type CredentialFunc func(ctx context.Context, host string) (Credential, error)

// DockerConfigPath is the Docker CLI's config file: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json. getenv is os.Getenv in programs.
func DockerConfigPath(getenv func(string) string, home string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	return filepath.Join(home, ".docker", "config.json")
}

// DockerCredentials returns the credentials `docker login` stored in the
// config file at path, as the Docker CLI finds them: a credHelpers entry
// for the host (docker-credential-<name> on PATH), else the credsStore
// helper, else the auths entry (keys may be written host, https://host or
// https://host/v1/). A missing file means no credentials; a malformed one
// is an error. Docker Hub (docker.io) is looked up under
// https://index.docker.io/v1/, as Docker stores it.
func DockerCredentials(path string) (CredentialFunc, error) {
	store, err := credentials.NewStore(path, credentials.StoreOptions{})
	if err != nil {
		return nil, &CredentialsError{Host: "(any registry)", Err: err}
	}
	return func(ctx context.Context, host string) (Credential, error) {
		c, err := store.Get(ctx, credentials.ServerAddressFromRegistry(host))
		if err != nil {
			return Credential{}, &CredentialsError{Host: host, Err: err}
		}
		return Credential{Username: c.Username, Password: c.Password, IdentityToken: c.RefreshToken, RegistryToken: c.AccessToken}, nil
	}, nil
}

// StaticCredentials returns c for host and nothing for any other host.
func StaticCredentials(host string, c Credential) CredentialFunc {
	return func(_ context.Context, h string) (Credential, error) {
		if h == host {
			return c, nil
		}
		return Credential{}, nil
	}
}
