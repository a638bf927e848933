package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// `groups describe`: kafka-consumer-groups.sh --describe with its three
// views, --offsets (the default), --members and --state, each with
// --verbose. Tables are Kafka's columns; "-" marks what is unknown (a
// partition without a committed offset has CURRENT-OFFSET and LAG "-", as
// in Kafka). Notes about a group ("has no active members", "is
// rebalancing") go to stderr, as Kafka's do.

// groupPartition is one row of the offsets view. CurrentOffset,
// LogEndOffset and Lag are nil when unknown.
type groupPartition struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	LeaderEpoch   *int32 `json:"leader_epoch"`
	CurrentOffset *int64 `json:"current_offset"`
	LogEndOffset  *int64 `json:"log_end_offset"`
	Lag           *int64 `json:"lag"`
	ConsumerID    string `json:"consumer_id"`
	Host          string `json:"host"`
	ClientID      string `json:"client_id"`
	Error         string `json:"error,omitempty"`
}

// groupMember is one row of the members view.
type groupMember struct {
	ConsumerID      string             `json:"consumer_id"`
	GroupInstanceID string             `json:"group_instance_id,omitempty"`
	Host            string             `json:"host"`
	ClientID        string             `json:"client_id"`
	Partitions      int                `json:"partitions"`
	Assignment      map[string][]int32 `json:"assignment"`
}

type groupDescription struct {
	Group           string           `json:"group"`
	State           string           `json:"state"`
	ProtocolType    string           `json:"protocol_type"`
	Protocol        string           `json:"protocol"`
	Coordinator     int32            `json:"coordinator"`
	CoordinatorHost string           `json:"coordinator_host"`
	Members         int              `json:"members"`
	MemberDetails   []groupMember    `json:"member_details"`
	Partitions      []groupPartition `json:"partitions"`
}

func newGroupsDescribeCommand() *cobra.Command {
	var (
		members, offsets, verbose bool
		state                     string
	)
	cmd := &cobra.Command{
		Use:   "describe (--group G[,G...] | --all-groups) [--offsets | --members | --state] [--verbose]",
		Short: "Show groups' committed offsets and lag, members or state",
		Example: `  tributary groups describe --bootstrap-server 127.0.0.1:9092 --group billing
  tributary groups describe --bootstrap-server 127.0.0.1:9092 --group billing --members --verbose
  tributary groups --bootstrap-server 127.0.0.1:9092 --describe --all-groups --state`,
		Args: noArgs,
	}
	conn := addConnFlags(cmd)
	output := addOutputFlag(cmd)
	fs := cmd.Flags()
	sel := addGroupSelection(fs, "describe")
	fs.BoolVar(&offsets, "offsets", false, "show each partition's committed offset, log end offset and lag (the default)")
	fs.BoolVar(&members, "members", false, "show the group's members and how many partitions each has")
	fs.StringVar(&state, "state", "", "show the group's coordinator, assignment strategy, state and member count")
	fs.Lookup("state").NoOptDefVal = " "
	fs.BoolVar(&verbose, "verbose", false, "more columns: leader epochs, assignments, group epochs")

	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := sel.check("describe"); err != nil {
			return err
		}
		withState := fs.Changed("state")
		if withState && strings.TrimSpace(state) != "" {
			return usageErrorf("--describe does not take a value for --state (got %q); state filters are for groups list --state", state)
		}
		var views []string
		for _, v := range []struct {
			on   bool
			name string
		}{{offsets, "--offsets"}, {members, "--members"}, {withState, "--state"}} {
			if v.on {
				views = append(views, v.name)
			}
		}
		if len(views) > 1 {
			return usageErrorf("--describe takes at most one of --members, --offsets, --state, got %s", strings.Join(views, " and "))
		}
		adm, ctx, release, err := conn.openAdmin(cmd.Context())
		if err != nil {
			return err
		}
		defer release()

		groups, err := sel.resolve(ctx, conn, adm)
		if err != nil {
			return err
		}
		var descs []groupDescription
		var errs []error
		if members || withState {
			described, err := adm.DescribeGroups(ctx, groups...)
			if err != nil && len(described) == 0 {
				return conn.fail("describe "+groupsLabel(groups), err)
			}
			for _, g := range sortedGroups(groups) {
				dg, ok := described[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("describe group %q: the coordinator did not answer for it", g))
				case errors.Is(dg.Err, kerr.GroupIDNotFound) || dg.Err == nil && dg.State == "Dead":
					errs = append(errs, fmt.Errorf("consumer group %q does not exist", g))
				case dg.Err != nil:
					errs = append(errs, fmt.Errorf("describe group %q: %w", g, kafkaError(dg.Err, dg.ErrMessage)))
				default:
					descs = append(descs, describeGroup(dg))
				}
			}
		} else {
			lags, err := adm.Lag(ctx, groups...)
			if err != nil {
				return conn.fail("describe "+groupsLabel(groups), err)
			}
			for _, g := range sortedGroups(groups) {
				gl, ok := lags[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("describe group %q: the coordinator did not answer for it", g))
				case errors.Is(gl.DescribeErr, kerr.GroupIDNotFound) || (gl.Error() == nil && gl.State == "Dead" && len(gl.Lag) == 0):
					errs = append(errs, fmt.Errorf("consumer group %q does not exist", g))
				case gl.DescribeErr != nil:
					errs = append(errs, conn.fail(fmt.Sprintf("describe group %q", g), gl.DescribeErr))
				case gl.FetchErr != nil:
					errs = append(errs, conn.fail(fmt.Sprintf("fetch committed offsets of group %q", g), gl.FetchErr))
				default:
					descs = append(descs, describeGroupLag(gl))
				}
			}
		}

		out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
		if *output == outputJSON {
			var v any = descs
			if len(descs) == 1 && !sel.all && len(groups) == 1 {
				v = descs[0]
			} else if descs == nil {
				v = []groupDescription{}
			}
			if err := writeJSON(out, v); err != nil {
				return err
			}
			return errors.Join(errs...)
		}
		for i, d := range descs {
			switch d.State {
			case "Empty":
				fmt.Fprintf(stderr, "Consumer group '%s' has no active members.\n", d.Group)
			case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
				fmt.Fprintf(stderr, "Warning: Consumer group '%s' is rebalancing.\n", d.Group)
			}
			if i > 0 {
				fmt.Fprintln(out)
			}
			var err error
			switch {
			case members:
				err = writeGroupMembers(out, d, verbose)
			case withState:
				err = writeGroupState(out, d, verbose)
			default:
				for _, p := range d.Partitions {
					if p.Error != "" {
						fmt.Fprintf(stderr, "warning: group %s, topic %s partition %d: %s\n", d.Group, p.Topic, p.Partition, p.Error)
					}
				}
				if len(d.Partitions) > 0 { // as Kafka: no rows, no table
					err = writeGroupOffsets(out, d, verbose)
				}
			}
			if err != nil {
				return err
			}
		}
		return errors.Join(errs...)
	}
	return cmd
}

// describeGroup is the members and state views of a described group.
func describeGroup(dg kadm.DescribedGroup) groupDescription {
	d := groupDescription{
		Group:           dg.Group,
		State:           dg.State,
		ProtocolType:    dg.ProtocolType,
		Protocol:        dg.Protocol,
		Coordinator:     dg.Coordinator.NodeID,
		CoordinatorHost: fmt.Sprintf("%s:%d", dg.Coordinator.Host, dg.Coordinator.Port),
		Members:         len(dg.Members),
		MemberDetails:   []groupMember{},
		Partitions:      []groupPartition{},
	}
	for _, m := range dg.Members {
		d.MemberDetails = append(d.MemberDetails, memberOf(m))
	}
	return d
}

func memberOf(m kadm.DescribedGroupMember) groupMember {
	gm := groupMember{ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
	if m.InstanceID != nil {
		gm.GroupInstanceID = *m.InstanceID
	}
	if a, ok := m.Assigned.AsConsumer(); ok {
		for _, t := range a.Topics {
			ps := append([]int32(nil), t.Partitions...)
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			gm.Assignment[t.Topic] = append(gm.Assignment[t.Topic], ps...)
			gm.Partitions += len(ps)
		}
	}
	return gm
}

// describeGroupLag is the offsets view of a group.
func describeGroupLag(gl kadm.DescribedGroupLag) groupDescription {
	d := groupDescription{
		Group:           gl.Group,
		State:           gl.State,
		ProtocolType:    gl.ProtocolType,
		Protocol:        gl.Protocol,
		Coordinator:     gl.Coordinator.NodeID,
		CoordinatorHost: fmt.Sprintf("%s:%d", gl.Coordinator.Host, gl.Coordinator.Port),
		Members:         len(gl.Members),
		MemberDetails:   []groupMember{},
		Partitions:      []groupPartition{},
	}
	for _, m := range gl.Members {
		d.MemberDetails = append(d.MemberDetails, memberOf(m))
	}
	withPartitions := map[string]bool{}
	for _, l := range gl.Lag.Sorted() {
		// Kafka's rows: partitions assigned to a member, and partitions
		// with a committed offset (franz-go also lists the other
		// partitions of committed topics).
		if l.Member == nil && l.Commit.At < 0 {
			continue
		}
		p := groupPartition{Topic: l.Topic, Partition: l.Partition}
		if l.Commit.At >= 0 {
			p.CurrentOffset = ptr(l.Commit.At)
			if l.Commit.LeaderEpoch >= 0 {
				p.LeaderEpoch = ptr(l.Commit.LeaderEpoch)
			}
		}
		if l.End.Err == nil {
			p.LogEndOffset = ptr(l.End.Offset)
		}
		// Lag is only known against a committed offset, as in Kafka.
		if p.CurrentOffset != nil && p.LogEndOffset != nil && l.Err == nil {
			p.Lag = ptr(max(0, *p.LogEndOffset-*p.CurrentOffset))
		}
		if l.Member != nil {
			p.ConsumerID, p.Host, p.ClientID = l.Member.MemberID, l.Member.ClientHost, l.Member.ClientID
			withPartitions[l.Member.MemberID] = true
		}
		if l.Err != nil {
			p.Error = l.Err.Error()
		}
		d.Partitions = append(d.Partitions, p)
	}
	// Members without partitions are listed too, as kafka-consumer-groups.sh
	// does, so that an idle member is visible.
	for _, m := range gl.Members {
		if !withPartitions[m.MemberID] {
			d.Partitions = append(d.Partitions, groupPartition{Partition: -1, ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID})
		}
	}
	return d
}

func writeGroupOffsets(w io.Writer, d groupDescription, verbose bool) error {
	header := []string{"GROUP", "TOPIC", "PARTITION"}
	if verbose {
		header = append(header, "LEADER-EPOCH")
	}
	header = append(header, "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	rows := make([][]string, 0, len(d.Partitions))
	for _, p := range d.Partitions {
		part := strconv.Itoa(int(p.Partition))
		if p.Partition < 0 {
			part = "-"
		}
		row := []string{d.Group, p.Topic, part}
		if verbose {
			epoch := "-"
			if p.LeaderEpoch != nil {
				epoch = strconv.Itoa(int(*p.LeaderEpoch))
			}
			row = append(row, epoch)
		}
		row = append(row, optInt(p.CurrentOffset), optInt(p.LogEndOffset), optInt(p.Lag), p.ConsumerID, p.Host, p.ClientID)
		rows = append(rows, row)
	}
	return writeTable(w, header, rows)
}

// assignmentString renders an assignment as Kafka does: topic:0,1;other:2.
func assignmentString(a map[string][]int32) string {
	if len(a) == 0 {
		return "-"
	}
	var parts []string
	for _, t := range sortedKeys(a) {
		parts = append(parts, t+":"+joinInt32s(a[t]))
	}
	return strings.Join(parts, ";")
}

func writeGroupMembers(w io.Writer, d groupDescription, verbose bool) error {
	withInstance := false
	for _, m := range d.MemberDetails {
		withInstance = withInstance || m.GroupInstanceID != ""
	}
	header := []string{"GROUP", "CONSUMER-ID"}
	if withInstance {
		header = append(header, "GROUP-INSTANCE-ID")
	}
	header = append(header, "HOST", "CLIENT-ID", "#PARTITIONS")
	if verbose {
		header = append(header, "CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT")
	}
	rows := make([][]string, 0, len(d.MemberDetails))
	for _, m := range d.MemberDetails {
		row := []string{d.Group, m.ConsumerID}
		if withInstance {
			row = append(row, m.GroupInstanceID)
		}
		row = append(row, m.Host, m.ClientID, strconv.Itoa(m.Partitions))
		if verbose {
			// Epochs and target assignments exist for KIP-848 groups only;
			// classic groups show "-" there, as Kafka does.
			row = append(row, "-", assignmentString(m.Assignment), "-", "-")
		}
		rows = append(rows, row)
	}
	return writeTable(w, header, rows)
}

func writeGroupState(w io.Writer, d groupDescription, verbose bool) error {
	coordinator := fmt.Sprintf("%s  (%d)", d.CoordinatorHost, d.Coordinator)
	header := []string{"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE"}
	row := []string{d.Group, coordinator, d.Protocol, d.State}
	if verbose {
		header = append(header, "GROUP-EPOCH", "TARGET-ASSIGNMENT-EPOCH")
		row = append(row, "-", "-")
	}
	header = append(header, "#MEMBERS")
	row = append(row, strconv.Itoa(d.Members))
	return writeTable(w, header, [][]string{row})
}
