package sysinfo

import (
	"strings"
	"testing"
	"time"
)

func TestCheckFindings(t *testing.T) {
	topics := func(fs []Finding) string {
		var s []string
		for _, f := range fs {
			s = append(s, f.Topic)
		}
		return strings.Join(s, ",")
	}
	two := Check(CheckOptions{
		Cores: ReadCores(Source{Root: "testdata/two-node"}), HostLogical: 16, HostPhysical: 8,
		Load: Load{OtherCores: 0.5, Load1: 3, Window: time.Second, Known: true}, LoadThreshold: 0.1,
	})
	if got := topics(two); got != "governor,turbo,smt,load,quota,numa" {
		t.Errorf("two-node findings: %s\n%v", got, two)
	}
	hybrid := Check(CheckOptions{Cores: ReadCores(Source{Root: "testdata/hybrid", Affinity: []int{14, 15, 16, 17}}), HostLogical: 20, HostPhysical: 12})
	if got := topics(hybrid); got != "smt,quota,affinity,core types" {
		t.Errorf("hybrid findings: %s\n%v", got, hybrid)
	}
	if q := hybrid[1].String(); !strings.Contains(q, "quota of 1.5 cores is in force (/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us): automatic counts use 2 of the 20 logical cores, and ORT's default pool still starts 12 threads") {
		t.Errorf("quota line: %s", q)
	}
	if got := Check(CheckOptions{Cores: ReadCores(Source{Root: "testdata/biglittle", Affinity: []int{4, 5, 6, 7}}), HostLogical: 8}); topics(got) != "governor,affinity" {
		t.Errorf("big cores only, schedutil: %v", got)
	}
}
