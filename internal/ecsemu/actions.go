package ecsemu

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const maxIDsPerCall = 100

// maxTagFilters is how many Tag.N pairs DescribeInstances takes.
const maxTagFilters = 20

// repeated returns the values of name.1, name.2, ... in the order of N.
func repeated(p url.Values, name string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	for k := range p {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			continue
		}
		items = append(items, item{n, p.Get(k)})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

type startInstancesResponse struct {
	XMLName           xml.Name          `json:"-" xml:"StartInstancesResponse"`
	RequestID         string            `json:"RequestId" xml:"RequestId"`
	InstanceResponses instanceResponses `json:"InstanceResponses" xml:"InstanceResponses"`
}

type instanceResponses struct {
	InstanceResponse []instanceResponse `json:"InstanceResponse" xml:"InstanceResponse"`
}

type instanceResponse struct {
	InstanceID     string `json:"InstanceId" xml:"InstanceId"`
	Code           string `json:"Code" xml:"Code"`
	Message        string `json:"Message" xml:"Message"`
	PreviousStatus string `json:"PreviousStatus" xml:"PreviousStatus"`
	CurrentStatus  string `json:"CurrentStatus" xml:"CurrentStatus"`
}

// startInstances runs StartInstances. The whole call is decided under the
// lock, so that AllTogether is all or nothing even against concurrent calls.
func (s *Server) startInstances(p url.Values, requestID string, now time.Time, account string) (any, *apiError) {
	region := p.Get("RegionId")
	if region == "" {
		return nil, missingParameter("RegionId")
	}
	batch := p.Get("BatchOptimization")
	switch batch {
	case "":
		batch = "AllTogether"
	case "AllTogether", "SuccessFirst":
	default:
		return nil, invalidParameter("BatchOptimization")
	}
	dryRun := false
	switch strings.ToLower(p.Get("DryRun")) {
	case "", "false":
	case "true":
		dryRun = true
	default:
		return nil, invalidParameter("DryRun")
	}
	ids := dedupe(repeated(p, "InstanceId"))
	if len(ids) == 0 {
		return nil, ecsError("InvalidInstanceId.NotFound", "InstanceId should not be null.")
	}
	if len(ids) > maxIDsPerCall {
		return nil, ecsError("InvalidParameter.TooManyInstanceIds", "")
	}
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, ecsError("Abs.InvalidInstanceIds.MalFormed", "")
		}
	}
	if dryRun && batch == "SuccessFirst" {
		// Documented: with SuccessFirst a dry run passes whatever the
		// instances are.
		return nil, ecsError(s.opts.DryRunPassCode, "")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	states := make([]*instanceState, len(ids))
	for i, id := range ids {
		st, ok := s.instances[id]
		if ok && st.RegionID == region && st.AccountID == account {
			st.advance(now)
			states[i] = st
			continue
		}
		if batch == "AllTogether" || !s.opts.UnknownIDsPerInstance {
			return nil, ecsError("InvalidInstanceIds.NotFound", "")
		}
	}

	if batch == "AllTogether" {
		for _, st := range states {
			if e := st.startRefusal(); e != nil {
				if e.code == st.StartError {
					st.failures++
				}
				return nil, e
			}
		}
		if dryRun {
			return nil, ecsError(s.opts.DryRunPassCode, "")
		}
	}

	resp := startInstancesResponse{RequestID: requestID}
	for i, st := range states {
		if st == nil {
			e := ecsError("InvalidInstanceId.NotFound", "")
			resp.InstanceResponses.InstanceResponse = append(resp.InstanceResponses.InstanceResponse,
				instanceResponse{InstanceID: ids[i], Code: e.code, Message: e.message})
			continue
		}
		if e := st.startRefusal(); e != nil {
			if e.code == st.StartError {
				st.failures++
			}
			resp.InstanceResponses.InstanceResponse = append(resp.InstanceResponses.InstanceResponse,
				instanceResponse{InstanceID: st.InstanceID, Code: e.code, Message: e.message,
					PreviousStatus: st.Status, CurrentStatus: st.Status})
			continue
		}
		prev := st.Status
		st.Status = Starting
		st.StoppedMode = ""
		st.schedule(Running, now, s.opts.StartDelay)
		resp.InstanceResponses.InstanceResponse = append(resp.InstanceResponses.InstanceResponse,
			instanceResponse{InstanceID: st.InstanceID, Code: "200", Message: "success",
				PreviousStatus: prev, CurrentStatus: Starting})
	}
	return resp, nil
}

// startRefusal is the error starting the instance would answer now, nil when
// it would start. Locks come first: a locked instance refuses everything.
func (st *instanceState) startRefusal() *apiError {
	for _, reason := range st.LockReasons {
		if reason == "security" {
			return ecsError("InstanceLockedForSecurity", "")
		}
	}
	if len(st.LockReasons) > 0 {
		return ecsError("InstanceExpiredOrInArrears", "")
	}
	if st.Status != Stopped {
		return ecsError("IncorrectInstanceStatus", "")
	}
	if st.StartError != "" && (st.StartErrorTimes == 0 || st.failures < st.StartErrorTimes) {
		return ecsError(st.StartError, "")
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

type describeInstancesResponse struct {
	XMLName    xml.Name      `json:"-" xml:"DescribeInstancesResponse"`
	RequestID  string        `json:"RequestId" xml:"RequestId"`
	TotalCount int           `json:"TotalCount" xml:"TotalCount"`
	PageNumber int           `json:"PageNumber" xml:"PageNumber"`
	PageSize   int           `json:"PageSize" xml:"PageSize"`
	NextToken  string        `json:"NextToken" xml:"NextToken"`
	Instances  instancesList `json:"Instances" xml:"Instances"`
}

type instancesList struct {
	Instance []describedInstance `json:"Instance" xml:"Instance"`
}

type describedInstance struct {
	InstanceID     string         `json:"InstanceId" xml:"InstanceId"`
	RegionID       string         `json:"RegionId" xml:"RegionId"`
	Status         string         `json:"Status" xml:"Status"`
	StoppedMode    string         `json:"StoppedMode" xml:"StoppedMode"`
	OperationLocks operationLocks `json:"OperationLocks" xml:"OperationLocks"`
	Tags           tagList        `json:"Tags" xml:"Tags"`
}

type operationLocks struct {
	LockReason []lockReason `json:"LockReason" xml:"LockReason"`
}

type lockReason struct {
	LockReason string `json:"LockReason" xml:"LockReason"`
}

type tagList struct {
	Tag []tag `json:"Tag" xml:"Tag"`
}

type tag struct {
	TagKey   string `json:"TagKey" xml:"TagKey"`
	TagValue string `json:"TagValue" xml:"TagValue"`
}

// describeInstances runs DescribeInstances: the region's instances, filtered
// by InstanceIds and Tag.N, sorted by ID, one page of them. Pages are read by
// PageSize/PageNumber, or, as ECS recommends, by MaxResults (1 to 100,
// default 10) and NextToken: a request with either is paged by token, and its
// answer's NextToken names the next page (empty after the last).
func (s *Server) describeInstances(p url.Values, requestID string, now time.Time, account string) (any, *apiError) {
	region := p.Get("RegionId")
	if region == "" {
		return nil, missingParameter("RegionId")
	}
	pageSize, ok := intParam(p, "PageSize", 10, 1, 100)
	if !ok {
		return nil, invalidParameter("PageSize")
	}
	pageNumber, ok := intParam(p, "PageNumber", 1, 1, 1<<30)
	if !ok {
		return nil, invalidParameter("PageNumber")
	}
	byToken := p.Has("MaxResults") || p.Get("NextToken") != ""
	maxResults, ok := intParam(p, "MaxResults", 10, 1, 100)
	if !ok {
		return nil, invalidParameter("MaxResults")
	}
	first := (pageNumber - 1) * pageSize
	if byToken {
		if p.Has("PageNumber") || p.Has("PageSize") {
			return nil, ecsError("InvalidParameter", "NextToken and MaxResults cannot be used with PageNumber or PageSize.")
		}
		pageSize, pageNumber, first = maxResults, 0, 0
		if tok := p.Get("NextToken"); tok != "" {
			s.mu.Lock()
			n, known := s.pages[tok]
			s.mu.Unlock()
			if !known {
				return nil, ecsError("InvalidParameter.NextToken", "")
			}
			first = n
		}
	}
	var wanted map[string]bool
	if raw := p.Get("InstanceIds"); raw != "" {
		var ids []string
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return nil, ecsError("InvalidInstanceIds.Malformed", "The specified parameter InstanceIds is not valid.")
		}
		if len(ids) > maxIDsPerCall {
			return nil, ecsError("InvalidParameter.TooManyInstanceIds", "")
		}
		wanted = make(map[string]bool, len(ids))
		for _, id := range ids {
			wanted[id] = true
		}
	}
	// Tag.N.Key/Tag.N.Value pairs; ECS takes up to 20.
	tagValues := map[string]string{}
	for n := 1; n <= maxTagFilters; n++ {
		k := p.Get("Tag." + strconv.Itoa(n) + ".Key")
		if k == "" {
			continue
		}
		tagValues[k] = p.Get("Tag." + strconv.Itoa(n) + ".Value")
	}

	s.mu.Lock()
	var found []describedInstance
	for _, st := range s.instances {
		if st.RegionID != region || st.AccountID != account || (wanted != nil && !wanted[st.InstanceID]) {
			continue
		}
		st.advance(now)
		if !hasTags(st.Tags, tagValues) {
			continue
		}
		found = append(found, describe(st.Instance))
	}
	s.mu.Unlock()

	sort.Slice(found, func(i, j int) bool { return found[i].InstanceID < found[j].InstanceID })
	resp := describeInstancesResponse{RequestID: requestID, TotalCount: len(found), PageNumber: pageNumber, PageSize: pageSize}
	if first < len(found) {
		resp.Instances.Instance = found[first:min(first+pageSize, len(found))]
	}
	if next := first + pageSize; byToken && (next < len(found) || s.endlessPages()) {
		resp.NextToken = s.pageToken(next)
	}
	if resp.Instances.Instance == nil {
		resp.Instances.Instance = []describedInstance{}
	}
	return resp, nil
}

func describe(in Instance) describedInstance {
	d := describedInstance{InstanceID: in.InstanceID, RegionID: in.RegionID, Status: in.Status, StoppedMode: in.stoppedMode()}
	d.OperationLocks.LockReason = []lockReason{}
	for _, r := range in.LockReasons {
		d.OperationLocks.LockReason = append(d.OperationLocks.LockReason, lockReason{LockReason: r})
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d.Tags.Tag = []tag{}
	for _, k := range keys {
		d.Tags.Tag = append(d.Tags.Tag, tag{TagKey: k, TagValue: in.Tags[k]})
	}
	return d
}

func hasTags(have, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != "" && got != v) {
			return false
		}
	}
	return true
}

func intParam(p url.Values, name string, def, lo, hi int) (int, bool) {
	raw := p.Get(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// endlessPages says whether the EndlessPages fault applies to
// DescribeInstances.
func (s *Server) endlessPages() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.EndlessPages && (s.faults.Action == "" || s.faults.Action == "DescribeInstances")
}

// pageToken makes the NextToken of the page that starts at offset: opaque, as
// ECS's are, and known only to this server.
func (s *Server) pageToken(offset int) string {
	tok := strings.ToLower(strings.ReplaceAll(newRequestID(), "-", ""))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[tok] = offset
	return tok
}

type describeInstanceStatusResponse struct {
	XMLName          xml.Name         `json:"-" xml:"DescribeInstanceStatusResponse"`
	RequestID        string           `json:"RequestId" xml:"RequestId"`
	TotalCount       int              `json:"TotalCount" xml:"TotalCount"`
	PageNumber       int              `json:"PageNumber" xml:"PageNumber"`
	PageSize         int              `json:"PageSize" xml:"PageSize"`
	InstanceStatuses instanceStatuses `json:"InstanceStatuses" xml:"InstanceStatuses"`
}

type instanceStatuses struct {
	InstanceStatus []instanceStatus `json:"InstanceStatus" xml:"InstanceStatus"`
}

type instanceStatus struct {
	InstanceID string `json:"InstanceId" xml:"InstanceId"`
	Status     string `json:"Status" xml:"Status"`
}

// maxStatusPageSize is DescribeInstanceStatus' largest page.
const maxStatusPageSize = 50

// describeInstanceStatus runs DescribeInstanceStatus: the status of the
// region's instances, or of those InstanceId.N names (1 to 100; IDs it does
// not know are left out), sorted by ID, one page of them by PageNumber
// (default 1) and PageSize (1 to 50, default 10).
func (s *Server) describeInstanceStatus(p url.Values, requestID string, now time.Time, account string) (any, *apiError) {
	region := p.Get("RegionId")
	if region == "" {
		return nil, missingParameter("RegionId")
	}
	pageSize, ok := intParam(p, "PageSize", 10, 1, maxStatusPageSize)
	if !ok {
		return nil, invalidParameter("PageSize")
	}
	pageNumber, ok := intParam(p, "PageNumber", 1, 1, 1<<30)
	if !ok {
		return nil, invalidParameter("PageNumber")
	}
	var wanted map[string]bool
	if ids := repeated(p, "InstanceId"); len(ids) > 0 {
		if len(ids) > maxIDsPerCall {
			return nil, ecsError("InvalidParameter.TooManyInstanceIds", "")
		}
		wanted = make(map[string]bool, len(ids))
		for _, id := range ids {
			wanted[id] = true
		}
	}
	s.mu.Lock()
	var found []instanceStatus
	for _, st := range s.instances {
		if st.RegionID != region || st.AccountID != account || (wanted != nil && !wanted[st.InstanceID]) {
			continue
		}
		st.advance(now)
		found = append(found, instanceStatus{InstanceID: st.InstanceID, Status: st.Status})
	}
	s.mu.Unlock()
	sort.Slice(found, func(i, j int) bool { return found[i].InstanceID < found[j].InstanceID })
	resp := describeInstanceStatusResponse{RequestID: requestID, TotalCount: len(found), PageNumber: pageNumber, PageSize: pageSize}
	resp.InstanceStatuses.InstanceStatus = []instanceStatus{}
	if first := (pageNumber - 1) * pageSize; first < len(found) {
		resp.InstanceStatuses.InstanceStatus = found[first:min(first+pageSize, len(found))]
	}
	return resp, nil
}
