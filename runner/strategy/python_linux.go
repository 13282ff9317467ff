package strategy

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// pySysProcAttr starts the Python runner in its own process group (so
// killTree reaches its pool workers, and a terminal's Ctrl-C reaches only
// ortbench, which then closes the cell) and kills it if ortbench dies.
// (Pdeathsig fires when the starting OS thread exits; the Go runtime rarely
// ends threads, and the runner's workers have their own Pdeathsig.)
func pySysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killTree kills the process group led by pid.
func killTree(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// processTree returns pid and all its descendants, from /proc/*/stat (the
// kernel's /proc/PID/task/TID/children is not built everywhere).
func processTree(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	kids := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		if ppid := parentOf(pid); ppid > 0 {
			kids[ppid] = append(kids[ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, kids[tree[i]]...)
	}
	return tree
}

// parentOf reads the parent pid from /proc/PID/stat; 0 if it is gone.
func parentOf(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	return ppid
}
