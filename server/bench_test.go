package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// BenchmarkServer measures the handler alone (no network): reads of
// current metadata and publishes, per storage backend.
func BenchmarkServer(b *testing.B) {
	for _, be := range servertest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			h := servertest.Start(b, be.Open(b), server.Options{Logger: discardLogger()})
			small := h.NewRepo(b, "bench/small", true)
			large := h.NewRepo(b, "bench/large", true)
			for i := 0; i < 1000; i++ {
				_ = large.AddTarget(tuf.RoleTargets, fmt.Sprintf("image-%04d", i), []byte(fmt.Sprint(i)))
			}
			parts, _ := large.Publish(tuf.RoleTargets)
			if err := h.Client(b, large.GUN).Publish(context.Background(), parts); err != nil {
				b.Fatal(err)
			}
			for _, tc := range []struct{ name, path string }{
				{"GetTimestamp", api.MetaPath(small.GUN, "timestamp")},
				{"GetSnapshot", api.MetaPath(small.GUN, "snapshot")},
				{"GetTargets10", api.MetaPath(small.GUN, "targets")},
				{"GetTargets1000", api.MetaPath(large.GUN, "targets")},
			} {
				b.Run(tc.name, func(b *testing.B) {
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						rec := httptest.NewRecorder()
						h.Server.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
						if rec.Code != 200 {
							b.Fatal(rec.Code)
						}
					}
				})
			}
			b.Run("Publish", func(b *testing.B) {
				b.ReportAllocs()
				c := h.Client(b, small.GUN)
				for i := 0; i < b.N; i++ {
					_ = small.AddTarget(tuf.RoleTargets, "x", []byte(fmt.Sprint(i)))
					parts, _ := small.Publish(tuf.RoleTargets)
					if err := c.Publish(context.Background(), parts); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
