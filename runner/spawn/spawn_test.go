package spawn

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// A child with a parent-death signal survives the exit of the thread that
// asked for it (a goroutine locked to it exits: the runtime ends the
// thread, as it does a pinned worker's): the fork ran on the lasting
// thread. Forked from the requesting thread, the kernel would kill it.
func TestChildOutlivesTheRequestingThread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux's")
	}
	for try := 0; try < 10; try++ {
		cmd := exec.Command("sleep", "30")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		type started struct {
			tid int
			err error
		}
		c := make(chan started, 1)
		go func() {
			runtime.LockOSThread() // exits locked: the runtime ends this thread
			err := Start(cmd)
			c <- started{syscall.Gettid(), err}
		}()
		s := <-c
		if s.err != nil {
			t.Fatal(s.err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// The runtime never ends the main thread (it parks it instead):
		// try again until the request ran on another one, and that one is gone.
		gone := s.tid != os.Getpid() && threadGone(s.tid, 2*time.Second)
		select {
		case err := <-exited:
			t.Fatalf("the child died with the requesting thread (tid %d): %v", s.tid, err)
		case <-time.After(300 * time.Millisecond):
		}
		_ = cmd.Process.Kill()
		<-exited
		if gone {
			return
		}
	}
	t.Skip("the request never ran on a thread the runtime then ended")
}

func threadGone(tid int, within time.Duration) bool {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); os.IsNotExist(err) {
			return true
		}
	}
	return false
}
