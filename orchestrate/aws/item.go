package aws

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// The attributes of a record's item. KeyAttribute and TTLAttribute are
// the table's key and its time-to-live attribute, for the template.
const (
	KeyAttribute = "BackupId"
	TTLAttribute = "ExpiresAt" // a Number: seconds since 1970, as DynamoDB's TTL needs

	attrRecord = "Record" // the whole efsync.Record as JSON: what Get returns
	attrRank   = "Rank"   // 1 running, 2 ended, 3 reported: Put never lowers it
	attrJob    = "Job"    // the orchestrate.Job as JSON, set by Fleet.Start
	attrClaim  = "ClaimedBy"
	attrLeader = "Leader" // the instance that runs a shared job: Catalog.Lead
)

// rank is how far on a job is, as its record says; a Put never lowers it.
type rank int

const (
	rankRunning  rank = 1 + iota // no status yet
	rankEnded                    // a status
	rankReported                 // the orchestrator's "reported" phase
)

// rankOf returns the rank of r.
func rankOf(r efsync.Record) rank {
	switch {
	case r.Status == "":
		return rankRunning
	case slices.ContainsFunc(r.Phases, func(p kpi.Phase) bool { return p.Name == orchestrate.PhaseReported }):
		return rankReported
	}
	return rankEnded
}

// optionalAttrs are the attributes an item may lack: a Put removes those
// its record has no value for.
var optionalAttrs = []string{"Label", "Source", "Repo", "Host", "Snapshot", "Parent", "Status", "Reason",
	"StartTime", "StopTime", "Phases", TTLAttribute}

// itemOf returns the attributes of r's item but its key: the seed's KPIs
// and the record's fields as attributes of their own, to be queried and
// read in the console, and the whole record as JSON. expires, if not
// zero, is its TTL.
func itemOf(r efsync.Record, expires time.Time) (map[string]ddbtypes.AttributeValue, error) {
	if r.Version == 0 {
		r.Version = efsync.RecordVersion
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	item := map[string]ddbtypes.AttributeValue{
		attrRecord: &ddbtypes.AttributeValueMemberS{Value: string(js)},
		attrRank:   num(int64(rankOf(r))),
		// The seed's KPIs, with its names.
		"NumberOfFiles":            num(r.Report.Scanned.Total()),
		"NumberOfFilesTransferred": num(r.Report.Files.Transferred),
		"TotalFileSize":            num(r.Report.Bytes.Scanned),
		"TotalTransferredFileSize": num(r.Report.Bytes.Transferred),
		"Files":                    num(r.Files),
		"Bytes":                    num(r.Bytes),
	}
	for name, v := range map[string]string{"Label": r.Label, "Source": r.Source, "Repo": r.Repo, "Host": r.Host,
		"Snapshot": r.Snapshot, "Parent": r.Parent, "Status": string(r.Status), "Reason": r.Reason,
		"StartTime": timeString(r.Start), "StopTime": timeString(r.Stop)} {
		if v != "" { // no empty strings: older DynamoDB emulators refuse them
			item[name] = &ddbtypes.AttributeValueMemberS{Value: v}
		}
	}
	if len(r.Phases) > 0 {
		phases := make([]ddbtypes.AttributeValue, len(r.Phases))
		for i, p := range r.Phases {
			m := map[string]ddbtypes.AttributeValue{"Name": &ddbtypes.AttributeValueMemberS{Value: p.Name},
				"Seconds": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatFloat(p.Seconds, 'g', -1, 64)}}
			for k, t := range map[string]time.Time{"Start": p.Start, "Stop": p.Stop} {
				if !t.IsZero() {
					m[k] = &ddbtypes.AttributeValueMemberS{Value: timeString(t)}
				}
			}
			phases[i] = &ddbtypes.AttributeValueMemberM{Value: m}
		}
		item["Phases"] = &ddbtypes.AttributeValueMemberL{Value: phases}
	}
	if !expires.IsZero() {
		item[TTLAttribute] = num(expires.Unix())
	}
	return item, nil
}

// recordOf decodes the record of an item.
func recordOf(item map[string]ddbtypes.AttributeValue) (efsync.Record, error) {
	var r efsync.Record
	s, ok := item[attrRecord].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return r, fmt.Errorf("item without a %s attribute", attrRecord)
	}
	err := json.Unmarshal([]byte(s.Value), &r)
	return r, err
}

// num returns n as a DynamoDB Number.
func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// str returns s as a DynamoDB String.
func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

// timeString returns t in RFC 3339 with nanoseconds, UTC, or "" for zero.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
