package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// groupJSON is the documented JSON shape of `groups describe`.
type groupJSON struct {
	Group      string `json:"group"`
	State      string `json:"state"`
	Members    int    `json:"members"`
	Partitions []struct {
		Topic         string `json:"topic"`
		Partition     int32  `json:"partition"`
		CurrentOffset *int64 `json:"current_offset"`
		LogEndOffset  *int64 `json:"log_end_offset"`
		Lag           *int64 `json:"lag"`
		ConsumerID    string `json:"consumer_id"`
	} `json:"partitions"`
}

type resetJSON struct {
	Group    string `json:"group"`
	Executed bool   `json:"executed"`
	Offsets  []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		NewOffset int64  `json:"new_offset"`
	} `json:"offsets"`
}

func describeGroup(t *testing.T, bs, group string) groupJSON {
	t.Helper()
	var g groupJSON
	decodeJSON(t, mustRun(t, "", "groups", "describe", "--bootstrap-server", bs, "--group", group, "--output", "json"), &g)
	return g
}

// committed returns the group's committed offset per partition and the
// lag per partition, failing on partitions without either.
func committed(t *testing.T, g groupJSON) (offsets, lags map[int32]int64) {
	t.Helper()
	offsets, lags = map[int32]int64{}, map[int32]int64{}
	for _, p := range g.Partitions {
		if p.CurrentOffset == nil || p.Lag == nil || p.LogEndOffset == nil {
			t.Fatalf("partition %d lacks offsets: %+v", p.Partition, p)
		}
		offsets[p.Partition], lags[p.Partition] = *p.CurrentOffset, *p.Lag
	}
	return offsets, lags
}

func TestGroupsConsumeDescribeResetDelete(t *testing.T) {
	bs := testkit.Bootstrap(t)
	topic := uniqueName("grp-topic")
	group := uniqueName("grp")
	conn := []string{"--bootstrap-server", bs}
	createTopic(t, bs, topic, 2)
	// Keys spread the records over both partitions.
	mustRun(t, "a:1\nb:2\nc:3\nd:4\ne:5\nf:6\n", "produce", "--bootstrap-server", bs, "--topic", topic,
		"--property", "parse.key=true", "--property", "key.separator=:")

	out := mustRun(t, "", "consume", "--bootstrap-server", bs, "--topic", topic, "--group", group, "--from-beginning", "--max-messages", "6")
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 6 {
		t.Fatalf("consumed %d records, want 6:\n%s", n, out)
	}

	// The consumer left the group after committing what it printed: lag 0.
	g := describeGroup(t, bs, group)
	offsets, lags := committed(t, g)
	if len(offsets) != 2 || offsets[0]+offsets[1] != 6 || lags[0] != 0 || lags[1] != 0 {
		t.Fatalf("after consuming everything: offsets %v lags %v (%+v)", offsets, lags, g)
	}
	if g.Members != 0 {
		t.Errorf("the console consumer should have left the group: %+v", g)
	}
	text := mustRun(t, "", append([]string{"groups", "describe", "--group", group}, conn...)...)
	header := "GROUP  TOPIC  PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID"
	if fields := strings.Fields(strings.SplitN(text, "\n", 2)[0]); strings.Join(fields, "  ") != header {
		t.Errorf("describe header: %q", fields)
	}
	for p := range 2 {
		want := []string{group, topic, fmt.Sprint(p), fmt.Sprint(offsets[int32(p)]), fmt.Sprint(offsets[int32(p)]), "0", "-", "-", "-"}
		if !containsFields(text, want) {
			t.Errorf("describe lacks row %v:\n%s", want, text)
		}
	}
	if out := mustRun(t, "", append([]string{"groups", "list"}, conn...)...); !strings.Contains(out, group) {
		t.Errorf("groups list lacks %s:\n%s", group, out)
	}

	// Dry run (the default) plans offset 0 everywhere and changes nothing.
	r := run(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest"}, conn...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "Dry run") {
		t.Fatalf("dry run: exit %d stderr %q", r.code, r.stderr)
	}
	for p := range 2 {
		if !containsFields(r.stdout, []string{group, topic, fmt.Sprint(p), "0"}) {
			t.Errorf("dry-run plan lacks partition %d at 0:\n%s", p, r.stdout)
		}
	}
	if got, _ := committed(t, describeGroup(t, bs, group)); got[0] != offsets[0] || got[1] != offsets[1] {
		t.Errorf("dry run changed offsets: %v -> %v", offsets, got)
	}

	// --execute commits them: lag is now everything.
	var reset resetJSON
	decodeJSON(t, mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute", "--output", "json"}, conn...)...), &reset)
	if !reset.Executed || len(reset.Offsets) != 2 || reset.Offsets[0].NewOffset != 0 || reset.Offsets[1].NewOffset != 0 {
		t.Errorf("execute json: %+v", reset)
	}
	if got, lags := committed(t, describeGroup(t, bs, group)); got[0] != 0 || got[1] != 0 || lags[0]+lags[1] != 6 {
		t.Errorf("after --to-earliest --execute: offsets %v lags %v", got, lags)
	}

	// Partition lists, shift-by, to-offset (bounded by the log end), to-latest.
	mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic + ":0", "--shift-by", "1", "--execute"}, conn...)...)
	mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic + ":1", "--to-offset", "1000", "--execute"}, conn...)...)
	if got, _ := committed(t, describeGroup(t, bs, group)); got[0] != min(1, offsets[0]) || got[1] != offsets[1] {
		t.Errorf("after shift-by 1 on 0 and to-offset 1000 on 1: %v (ends %v)", got, offsets)
	}
	mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--all-topics", "--to-latest", "--execute"}, conn...)...)
	if got, lags := committed(t, describeGroup(t, bs, group)); got[0] != offsets[0] || got[1] != offsets[1] || lags[0]+lags[1] != 0 {
		t.Errorf("after --all-topics --to-latest: offsets %v lags %v", got, lags)
	}
	// A time after every record resolves to the log end; one before all of
	// them to the start.
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	decodeJSON(t, mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--to-datetime", future, "--output", "json"}, conn...)...), &reset)
	for _, o := range reset.Offsets {
		if o.NewOffset != offsets[o.Partition] {
			t.Errorf("--to-datetime in the future: partition %d -> %d, want the end %d", o.Partition, o.NewOffset, offsets[o.Partition])
		}
	}
	decodeJSON(t, mustRun(t, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--by-duration", "P1D", "--output", "json"}, conn...)...), &reset)
	for _, o := range reset.Offsets {
		if o.NewOffset != 0 {
			t.Errorf("--by-duration P1D: partition %d -> %d, want 0", o.Partition, o.NewOffset)
		}
	}
	if reset.Executed {
		t.Error("reset without --execute reported executed")
	}

	// An active group is refused with Kafka's message.
	member := testkit.Client(t, bs, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic))
	adm := kadm.NewClient(member)
	pollCtx, stopPolling := context.WithCancel(context.Background())
	defer stopPolling()
	go func() {
		for pollCtx.Err() == nil {
			member.PollFetches(pollCtx)
		}
	}()
	testkit.Eventually(t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gs, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return err
		}
		if s := gs[group].State; s != "Stable" {
			return fmt.Errorf("group state %q", s)
		}
		return nil
	})
	want := fmt.Sprintf("Assignments can only be reset if the group '%s' is inactive, but the current state is Stable.", group)
	mustFail(t, exitError, want, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest"}, conn...)...)
	mustFail(t, exitError, want, "", append([]string{"groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute"}, conn...)...)
	if g := describeGroup(t, bs, group); g.Members != 1 || g.State != "Stable" || g.Partitions[0].ConsumerID == "" {
		t.Errorf("active group describe: %+v", g)
	}
	mustFail(t, exitError, "NON_EMPTY_GROUP", "", append([]string{"groups", "delete", "--group", group}, conn...)...)
	stopPolling()
	member.LeaveGroup()

	out = mustRun(t, "", append([]string{"groups", "delete", "--group", group}, conn...)...)
	if !strings.Contains(out, "Deletion of requested consumer groups ('"+group+"') was successful.") {
		t.Errorf("delete output: %q", out)
	}
	mustFail(t, exitError, fmt.Sprintf("consumer group %q does not exist", group), "", append([]string{"groups", "describe", "--group", group}, conn...)...)
}

// containsFields reports whether some line of out has exactly these
// whitespace-separated fields.
func containsFields(out string, fields []string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
