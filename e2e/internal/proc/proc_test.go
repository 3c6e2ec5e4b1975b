//go:build unix

package proc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// groupAlive reports whether any process of p's group is still running. A zombie does not
// count: a killed child waits there until the machine's init reaps it.
func groupAlive(p *Proc) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its last ')'.
		i := strings.LastIndexByte(string(data), ')')
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) > 2 && fields[0] != "Z" && fields[2] == strconv.Itoa(p.Cmd.Process.Pid) {
			return true
		}
	}
	return false
}

// TestStopAll: newest first, a group's children with their leader, SIGKILL for what ignores
// the stop signal, nothing started while stopping, and starting again afterwards.
func TestStopAll(t *testing.T) {
	s := &Set{Grace: 300 * time.Millisecond}
	var mu sync.Mutex
	var order []string
	var refused []error
	start := func(name string, script string) *Proc {
		p, err := s.Start(name, exec.Command("sh", "-c", script), syscall.SIGTERM, func() {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			_, err := s.Start("late", exec.Command("sleep", "30"), syscall.SIGTERM, nil)
			mu.Lock()
			refused = append(refused, err)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := start("a", "sleep 30")
	b := start("b", "sleep 30 & sleep 30 & wait") // children in the leader's group
	c := start("c", `trap "" TERM; sleep 30 & wait`)
	time.Sleep(100 * time.Millisecond) // let c set its trap
	s.StopAll()
	if got := order; len(got) != 3 || got[0] != "c" || got[1] != "b" || got[2] != "a" {
		t.Errorf("stopped in the order %v, want c b a", got)
	}
	for _, p := range []*Proc{a, b, c} {
		if !p.Exited() || groupAlive(p) {
			t.Errorf("%s: exited %v, group alive %v after StopAll", p.Name, p.Exited(), groupAlive(p))
		}
	}
	for _, err := range refused {
		if !errors.Is(err, ErrStopping) {
			t.Errorf("a start during StopAll: %v, want ErrStopping", err)
		}
	}
	if len(s.list) != 0 {
		t.Errorf("%d processes still recorded", len(s.list))
	}
	d, err := s.Start("d", exec.Command("sleep", "30"), syscall.SIGTERM, nil)
	if err != nil {
		t.Fatalf("start after StopAll: %v", err)
	}
	s.Shutdown()
	if !d.Exited() {
		t.Error("d outlived Shutdown")
	}
	if _, err := s.Start("e", exec.Command("sleep", "30"), syscall.SIGTERM, nil); !errors.Is(err, ErrStopping) {
		t.Errorf("start after Shutdown: %v, want ErrStopping", err)
	}
}

// TestShutdownTwice: an interrupt's Shutdown and the run's own both return only once every
// process has ended.
func TestShutdownTwice(t *testing.T) {
	s := &Set{Grace: 300 * time.Millisecond}
	var ps []*Proc
	for i := 0; i < 3; i++ {
		p, err := s.Start("p", exec.Command("sh", "-c", `trap "" TERM; sleep 30 & wait`), syscall.SIGTERM, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	time.Sleep(100 * time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Shutdown()
			for _, p := range ps {
				if !p.Exited() || groupAlive(p) {
					t.Errorf("a Shutdown returned while %d was running", p.Cmd.Process.Pid)
				}
			}
		}()
	}
	wg.Wait()
}

// TestHalt stops one process and leaves the others.
func TestHalt(t *testing.T) {
	s := &Set{Grace: time.Second}
	a, _ := s.Start("a", exec.Command("sleep", "30"), syscall.SIGTERM, nil)
	b, err := s.Start("b", exec.Command("sleep", "30"), syscall.SIGINT, nil)
	if err != nil || a == nil {
		t.Fatal(err)
	}
	s.Halt(b)
	if !b.Exited() || a.Exited() || len(s.list) != 1 {
		t.Errorf("after Halt(b): b exited %v, a exited %v, %d recorded", b.Exited(), a.Exited(), len(s.list))
	}
	s.Shutdown()
}
