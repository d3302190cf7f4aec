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
	req, apiErr := readStartRequest(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if req.dryRun && req.batch == "SuccessFirst" {
		// Documented: with SuccessFirst a dry run passes whatever the
		// instances are.
		return nil, ecsError(s.opts.DryRunPassCode, "")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	states, apiErr := s.startStates(req, now, account)
	if apiErr != nil {
		return nil, apiErr
	}
	if req.batch == "AllTogether" {
		for _, st := range states {
			if e := s.refuseStart(st, now); e != nil {
				return nil, e
			}
		}
		if req.dryRun {
			return nil, ecsError(s.opts.DryRunPassCode, "")
		}
	}

	resp := startInstancesResponse{RequestID: requestID}
	for i, st := range states {
		resp.InstanceResponses.InstanceResponse = append(resp.InstanceResponses.InstanceResponse,
			s.startOne(st, req.ids[i], now))
	}
	return resp, nil
}

// startRequest is a StartInstances call's parameters, checked.
type startRequest struct {
	region, batch string
	dryRun        bool
	ids           []string
}

// readStartRequest reads and checks StartInstances' parameters, as ECS does
// before it looks at any instance.
func readStartRequest(p url.Values) (req startRequest, apiErr *apiError) {
	req.region = p.Get("RegionId")
	if req.region == "" {
		return req, missingParameter("RegionId")
	}
	req.batch = p.Get("BatchOptimization")
	switch req.batch {
	case "":
		req.batch = "AllTogether"
	case "AllTogether", "SuccessFirst":
	default:
		return req, invalidParameter("BatchOptimization")
	}
	switch strings.ToLower(p.Get("DryRun")) {
	case "", "false":
	case "true":
		req.dryRun = true
	default:
		return req, invalidParameter("DryRun")
	}
	req.ids = dedupe(repeated(p, "InstanceId"))
	if len(req.ids) == 0 {
		return req, ecsError("InvalidInstanceId.NotFound", "InstanceId should not be null.")
	}
	if len(req.ids) > maxIDsPerCall {
		return req, ecsError("InvalidParameter.TooManyInstanceIds", "")
	}
	for _, id := range req.ids {
		if !instanceIDPattern.MatchString(id) {
			return req, ecsError("Abs.InvalidInstanceIds.MalFormed", "")
		}
	}
	return req, nil
}

// startStates finds the instance of each ID of req in its region and the
// caller's account, brought up to now; nil for one not found, which
// refuses the whole call unless the emulator answers it per instance.
// Called under s.mu.
func (s *Server) startStates(req startRequest, now time.Time, account string) ([]*instanceState, *apiError) {
	states := make([]*instanceState, len(req.ids))
	for i, id := range req.ids {
		st, ok := s.instances[id]
		if ok && st.RegionID == req.region && st.AccountID == account {
			st.advance(now)
			states[i] = st
			continue
		}
		if req.batch == "AllTogether" || !s.opts.UnknownIDsPerInstance {
			return nil, ecsError("InvalidInstanceIds.NotFound", "")
		}
	}
	return states, nil
}

// startOne starts one instance of a SuccessFirst call (or of an
// AllTogether one that passed), st nil when id was not found, and answers
// for it. Called under s.mu.
func (s *Server) startOne(st *instanceState, id string, now time.Time) instanceResponse {
	if st == nil {
		e := ecsError("InvalidInstanceId.NotFound", "")
		return instanceResponse{InstanceID: id, Code: e.code, Message: e.message}
	}
	if e := s.refuseStart(st, now); e != nil {
		return instanceResponse{InstanceID: st.InstanceID, Code: e.code, Message: e.message,
			PreviousStatus: st.Status, CurrentStatus: st.Status}
	}
	prev := st.Status
	st.Status = Starting
	st.StoppedMode = ""
	st.schedule(Running, now, s.opts.StartDelay)
	return instanceResponse{InstanceID: st.InstanceID, Code: "200", Message: "success",
		PreviousStatus: prev, CurrentStatus: Starting}
}

// refuseStart is the error starting st answers now: its own (refuseStart
// of the instance), else OperationDenied.NoStock when it was stopped in
// economical mode in a zone out of stock (SellOut). Called under s.mu.
func (s *Server) refuseStart(st *instanceState, now time.Time) *apiError {
	if e := st.refuseStart(); e != nil {
		return e
	}
	if st.StoppedMode == "StopCharging" && st.ZoneID != "" {
		if until, ok := s.soldOut[st.ZoneID]; ok && (until.IsZero() || now.Before(until)) {
			return ecsError("OperationDenied.NoStock", "")
		}
	}
	return nil
}

// refuseStart is startRefusal, counting the refusal when it is the
// instance's injected StartError.
func (st *instanceState) refuseStart() *apiError {
	e := st.startRefusal()
	if e != nil && e.code == st.StartError {
		st.failures++
	}
	return e
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
	ZoneID         string         `json:"ZoneId" xml:"ZoneId"`
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
	page, apiErr := s.readPage(p)
	if apiErr != nil {
		return nil, apiErr
	}
	wanted, tagValues, apiErr := readInstanceFilter(p)
	if apiErr != nil {
		return nil, apiErr
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
	resp := describeInstancesResponse{RequestID: requestID, TotalCount: len(found), PageNumber: page.number, PageSize: page.size}
	if page.first < len(found) {
		resp.Instances.Instance = found[page.first:min(page.first+page.size, len(found))]
	}
	if next := page.first + page.size; page.byToken && (next < len(found) || s.endlessPages()) {
		resp.NextToken = s.pageToken(next)
	}
	if resp.Instances.Instance == nil {
		resp.Instances.Instance = []describedInstance{}
	}
	return resp, nil
}

// describePage is the page a DescribeInstances call asks for: by number
// (PageSize, PageNumber) or by token (MaxResults, NextToken); first is the
// index of its first instance.
type describePage struct {
	size, number, first int
	byToken             bool
}

// readPage reads and checks the page a DescribeInstances call asks for.
func (s *Server) readPage(p url.Values) (page describePage, apiErr *apiError) {
	var ok bool
	if page.size, ok = intParam(p, "PageSize", 10, 1, 100); !ok {
		return page, invalidParameter("PageSize")
	}
	if page.number, ok = intParam(p, "PageNumber", 1, 1, 1<<30); !ok {
		return page, invalidParameter("PageNumber")
	}
	page.byToken = p.Has("MaxResults") || p.Get("NextToken") != ""
	maxResults, ok := intParam(p, "MaxResults", 10, 1, 100)
	if !ok {
		return page, invalidParameter("MaxResults")
	}
	page.first = (page.number - 1) * page.size
	if !page.byToken {
		return page, nil
	}
	if p.Has("PageNumber") || p.Has("PageSize") {
		return page, ecsError("InvalidParameter", "NextToken and MaxResults cannot be used with PageNumber or PageSize.")
	}
	page.size, page.number, page.first = maxResults, 0, 0
	if tok := p.Get("NextToken"); tok != "" {
		s.mu.Lock()
		n, known := s.pages[tok]
		s.mu.Unlock()
		if !known {
			return page, ecsError("InvalidParameter.NextToken", "")
		}
		page.first = n
	}
	return page, nil
}

// readInstanceFilter reads the InstanceIds (nil when absent) and the
// Tag.N.Key/Tag.N.Value pairs (ECS takes up to 20) a DescribeInstances call
// filters by.
func readInstanceFilter(p url.Values) (wanted map[string]bool, tagValues map[string]string, apiErr *apiError) {
	if raw := p.Get("InstanceIds"); raw != "" {
		var ids []string
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return nil, nil, ecsError("InvalidInstanceIds.Malformed", "The specified parameter InstanceIds is not valid.")
		}
		if len(ids) > maxIDsPerCall {
			return nil, nil, ecsError("InvalidParameter.TooManyInstanceIds", "")
		}
		wanted = make(map[string]bool, len(ids))
		for _, id := range ids {
			wanted[id] = true
		}
	}
	tagValues = map[string]string{}
	for n := 1; n <= maxTagFilters; n++ {
		k := p.Get("Tag." + strconv.Itoa(n) + ".Key")
		if k == "" {
			continue
		}
		tagValues[k] = p.Get("Tag." + strconv.Itoa(n) + ".Value")
	}
	return wanted, tagValues, nil
}

func describe(in Instance) describedInstance {
	d := describedInstance{InstanceID: in.InstanceID, RegionID: in.RegionID, ZoneID: in.ZoneID, Status: in.Status, StoppedMode: in.stoppedMode()}
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
