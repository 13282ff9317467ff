package results

import "testing"

// CoreCount says "N usable of M" only where the run could use fewer cores
// than the host has.
func TestCoreCount(t *testing.T) {
	for _, tc := range []struct {
		env  Environment
		want string
	}{
		{Environment{LogicalCores: 2}, "2 cores"},
		{Environment{LogicalCores: 2, Cores: &Cores{Usable: 2}}, "2 cores"},
		{Environment{LogicalCores: 2, Cores: &Cores{Usable: 1}}, "1 usable of 2 cores"},
		{Environment{}, "1 core"},
	} {
		if got := tc.env.CoreCount(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.env, got, tc.want)
		}
	}
}
