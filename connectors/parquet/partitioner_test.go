package parquet

import (
	"testing"
	"time"
)

func TestPathFormat(t *testing.T) {
	f, err := compilePathFormat("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/'x''y'/mm-ss.SSS")
	if err != nil {
		t.Fatal(err)
	}
	got := renderPathFormat(f, time.Date(2024, 3, 7, 9, 5, 2, 45e6, time.UTC), "/")
	if want := "year=2024/month=03/day=07/hour=09/x'y/05-02.045"; got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
	for _, bad := range []string{"", "'open", "YYYY/EEE"} {
		if _, err := compilePathFormat(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

// FuzzPathFormat: any path.format either is refused or renders.
func FuzzPathFormat(f *testing.F) {
	for _, s := range []string{"'year'=YYYY/'month'=MM", "yy-M-d H:m:s.SSS", "''", "'a''b'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := compilePathFormat(s)
		if err != nil {
			return
		}
		renderPathFormat(parts, time.Unix(1700000000, 0).UTC(), "/")
	})
}
