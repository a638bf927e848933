package faults

// Topic lifecycle faults: DeleteTopics racing CreateTopics of the same
// name, and kill -9 in the middle of DeleteTopics or CreatePartitions.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// Two clients: one creates a topic, produces and deletes it; the other
// creates the same name as soon as it is free and produces 20 records.
// The second topic's files and records must survive the first's deletion
// and a clean restart.
func TestDeleteRacesCreateOfSameName(t *testing.T) {
	b := testkit.StartBroker(t)
	const iterations, parallel, partitions = 40, 4, 4
	results := make([][]acked, iterations)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	errs := make(chan error, iterations)
	for i := 0; i < iterations; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := fmt.Sprintf("race-%d", i)
			// Two clients, so the requests travel on different connections.
			adm, adm2 := testkit.Admin(t, b.Addr), testkit.Admin(t, b.Addr)
			ctx := ctxT(t, 60*time.Second)
			testkit.CreateTopic(t, b.Addr, name, partitions)
			produceTo(t, b.Addr, name, partitions-1, 20, "first")
			recreated := make(chan error, 1)
			go func() {
				for ctx.Err() == nil {
					resp, err := adm2.CreateTopic(ctx, partitions, 1, nil, name)
					if err == nil {
						err = resp.Err
					}
					if errors.Is(err, kerr.TopicAlreadyExists) {
						continue // the first topic is not deleted yet
					}
					recreated <- err
					return
				}
				recreated <- ctx.Err()
			}()
			resp, err := adm.DeleteTopic(ctx, name)
			if err == nil {
				err = resp.Err
			}
			if err != nil {
				errs <- fmt.Errorf("delete %s: %w", name, err)
				return
			}
			if err := <-recreated; err != nil {
				errs <- fmt.Errorf("recreate %s: %w", name, err)
				return
			}
			results[i] = produceTo(t, b.Addr, name, partitions-1, 20, "second")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []acked
	for i, acks := range results {
		seg := filepath.Join(b.DataDir, fmt.Sprintf("race-%d-%d", i, partitions-1), "00000000000000000000.log")
		if _, err := os.Stat(seg); err != nil {
			t.Errorf("recreated topic race-%d has no segment file: %v", i, err)
		}
		all = append(all, acks...)
	}
	verifyAcked(t, b.Addr, all)
	b.Restart()
	verifyAcked(t, b.Addr, all)
}

var partitionDirName = regexp.MustCompile(`^(.+)-(\d+)$`)

// topicDirs lists the partition numbers of topic's directories in dataDir
// (plain <topic>-<n> names only).
func topicDirs(t testing.TB, dataDir, topic string) []int {
	t.Helper()
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		m := partitionDirName.FindStringSubmatch(e.Name())
		if e.IsDir() && m != nil && m[1] == topic {
			n, _ := strconv.Atoi(m[2])
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// leftovers lists directories that belong to no partition of a live
// topic: those of topic beyond its partition count, and any renamed for
// deletion.
func leftovers(t testing.TB, dataDir, topic string, partitions int) []string {
	t.Helper()
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, "-delete") {
			out = append(out, name)
			continue
		}
		if m := partitionDirName.FindStringSubmatch(name); m != nil && m[1] == topic {
			if n, _ := strconv.Atoi(m[2]); n >= partitions {
				out = append(out, name)
			}
		}
	}
	return out
}

// partitionCount asks the broker for topic's partition count, 0 if the
// topic does not exist.
func partitionCount(t testing.TB, addr, topic string) int {
	t.Helper()
	md, err := testkit.Admin(t, addr).Metadata(ctxT(t, 30*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	td, ok := md.Topics[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return 0
	}
	if td.Err != nil {
		t.Fatalf("metadata %s: %v", topic, td.Err)
	}
	return len(td.Partitions)
}

// killWhen sends SIGKILL to p as soon as cond holds (polled as fast as the
// file system answers), or when op returns.
func killWhen(t *testing.T, p *testkit.Process, op func(ctx context.Context), cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); op(ctx) }()
	for !cond() {
		select {
		case <-done:
			p.Kill()
			return
		default:
		}
	}
	p.Kill()
	<-done
}

// kill -9 in the middle of deleting a topic of 200 partitions: after a
// restart the topic is either whole (every acknowledged record readable)
// or gone with no directory left, and the broker says what it removed.
func TestKillDuringDeleteTopics(t *testing.T) {
	dir := t.TempDir()
	p := testkit.StartBrokerProcess(t, dir, "")
	testkit.CreateTopic(t, p.Addr, "doomed", 200)
	testkit.CreateTopic(t, p.Addr, "kept", 1)
	doomed := produce(t, p.Addr, "doomed", 100, "d")
	kept := produce(t, p.Addr, "kept", 100, "k")
	killWhen(t, p, func(ctx context.Context) {
		testkit.Admin(t, p.Addr).DeleteTopic(ctx, "doomed")
	}, func() bool { return len(topicDirs(t, dir, "doomed")) < 200 })
	// What the kill left of the topic on disk: its partition directories
	// and those renamed for deletion. The background removal can finish
	// before the kill lands (the test sees the directory count drop, or
	// the response, a little late on a loaded machine); then the restarted
	// broker has nothing to remove and nothing to say.
	var left []string
	for _, name := range leftovers(t, dir, "doomed", 0) {
		if strings.HasPrefix(name, "doomed-") {
			left = append(left, name)
		}
	}

	p = testkit.StartBrokerProcess(t, dir, p.Addr)
	verifyAcked(t, p.Addr, kept)
	switch n := partitionCount(t, p.Addr, "doomed"); n {
	case 200:
		verifyAcked(t, p.Addr, doomed)
		t.Log("the delete had not taken effect; the topic is whole")
	case 0:
		testkit.Eventually(t, 10*time.Second, func() error {
			if d := topicDirs(t, dir, "doomed"); len(d) > 0 {
				return fmt.Errorf("deleted topic still has %d partition directories", len(d))
			}
			if l := leftovers(t, dir, "doomed", 0); len(l) > 0 {
				return fmt.Errorf("deleted topic left %v", l)
			}
			return nil
		})
		t.Logf("the delete had taken effect; %d of its directories were left at the kill", len(left))
		if len(left) == 0 {
			break
		}
		// The child's log reaches us through a pipe, possibly after the
		// directories are gone.
		testkit.Eventually(t, 10*time.Second, func() error {
			if !strings.Contains(p.Logs(), "doomed") {
				return fmt.Errorf("the restarted broker did not log the deletion it finished (%d directories left at the kill):\n%s", len(left), p.Logs())
			}
			return nil
		})
	default:
		t.Fatalf("after a crash mid-delete the topic has %d of 200 partitions", n)
	}
}

// kill -9 while CreatePartitions takes a topic from 1 to 1000 partitions:
// after a restart the topic has 1 or 1000 partitions, a directory for each
// and no other.
func TestKillDuringCreatePartitions(t *testing.T) {
	dir := t.TempDir()
	p := testkit.StartBrokerProcess(t, dir, "")
	testkit.CreateTopic(t, p.Addr, "growing", 1)
	acks := produce(t, p.Addr, "growing", 100, "g")
	killWhen(t, p, func(ctx context.Context) {
		testkit.Admin(t, p.Addr).CreatePartitions(ctx, 999, "growing")
	}, func() bool { return len(topicDirs(t, dir, "growing")) > 1 })
	before := len(topicDirs(t, dir, "growing"))

	p = testkit.StartBrokerProcess(t, dir, p.Addr)
	verifyAcked(t, p.Addr, acks)
	n := partitionCount(t, p.Addr, "growing")
	if n != 1 && n != 1000 {
		t.Fatalf("after a crash mid-CreatePartitions the topic has %d partitions, want 1 or 1000", n)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if d := topicDirs(t, dir, "growing"); len(d) != n {
			return fmt.Errorf("%d partitions but %d directories", n, len(d))
		}
		return nil
	})
	t.Logf("%d directories at the kill; the topic has %d partitions after restart", before, n)
	if before != n {
		// The child's log reaches us through a pipe, possibly after the
		// directories are gone.
		testkit.Eventually(t, 10*time.Second, func() error {
			if !strings.Contains(p.Logs(), "growing") {
				return fmt.Errorf("the restarted broker did not log what it cleaned up:\n%s", p.Logs())
			}
			return nil
		})
	}
}
