package image

import (
	"sort"
	"strings"
	"testing"
)

func TestNaturalLess(t *testing.T) {
	got := []string{"v10", "v2", "latest", "v1.10", "v1.9", "1.0", "01.0", "a"}
	sort.Slice(got, func(i, j int) bool { return naturalLess(got[i], got[j]) })
	want := "1.0,01.0,a,latest,v1.9,v1.10,v2,v10"
	if strings.Join(got, ",") != want {
		t.Fatalf("got %s, want %s", strings.Join(got, ","), want)
	}
}
