// Package ecsemu is an emulator of the ECS API (version 2014-05-26) as a real
// HTTP server, for tests, the local runner and the benchmarks. It speaks the RPC
// wire format that the v1 Go SDK (alibaba-cloud-sdk-go) sends, so that the
// project's SDK adapter is exercised end to end — signing, endpoint, transport,
// error parsing — and not only a fake of an interface.
//
// # Fidelity
//
// Requests: parameters are read from the query string and the form body, by GET
// or POST. Every request is authenticated as ECS does for signature version 1.0:
// the common parameters (Action, Version, AccessKeyId, Signature,
// SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce, Timestamp)
// must be present; the Timestamp must be ISO 8601 UTC within 15 minutes of the
// server's clock; a SignatureNonce is accepted once; the signature is
// base64(HMAC-SHA1(AccessKeySecret+"&", StringToSign)) with StringToSign =
// METHOD + "&%2F&" + percentEncode(sorted, percent-encoded params without
// Signature). An AccessKeyId that starts with "STS." needs the SecurityToken it
// was issued with. Failures answer ECS's codes and HTTP statuses
// (MissingParameter, InvalidVersion, InvalidTimeStamp.Format/Expired,
// InvalidAccessKeyId.NotFound 404, MissingSecurityToken,
// InvalidSecurityToken.Expired 403, InvalidSecurityToken.Malformed,
// InvalidSecurityToken.MismatchWithAccessKey, SignatureDoesNotMatch with
// ECS's "server string to sign is:" message, SignatureNonceUsed). Responses are
// JSON, or XML with Format=XML.
//
// StartInstances follows the ECS documentation: InstanceId.1..N (1 to 100;
// more is InvalidParameter.TooManyInstanceIds), BatchOptimization AllTogether
// (the default: one failing instance fails the call with its error and nothing
// starts) or SuccessFirst (a result per instance, HTTP 200), DryRun (the
// pass code, DryRunOperation by default, when a real run would be accepted;
// with SuccessFirst the pass code regardless of the instances, as documented).
// A malformed ID refuses the whole call (Abs.InvalidInstanceIds.MalFormed); an
// unknown ID refuses the whole call (InvalidInstanceIds.NotFound, 404) in both
// modes unless Options.UnknownIDsPerInstance is set. A started instance turns
// Starting, then Running after Options.StartDelay; instances put in Stopping or
// Pending settle (Stopped, Running) after Options.SettleDelay.
//
// DescribeInstances takes RegionId, InstanceIds (a JSON array of up to 100),
// Tag.N.Key/Tag.N.Value (1 to 20; a key without a value matches any value),
// and pages either by PageSize (1 to 100, default 10) and PageNumber, or, as
// ECS recommends, by MaxResults (1 to 100, default 10; more is
// InvalidParameter) and NextToken: an opaque token that names the next page
// (empty after the last); an unknown token is InvalidParameter.NextToken, and
// mixing the two ways is InvalidParameter. It answers status, StoppedMode,
// OperationLocks and Tags in ECS's shape, sorted by instance ID. A started
// instance stays Starting for Options.StartDelay (negative: until
// SetInstance), so that a caller that waits for Running polls as it would
// against ECS.
//
// DescribeInstanceStatus takes RegionId, InstanceId.1..N (up to 100; IDs it
// does not know are left out), PageNumber and PageSize (1 to 50, default
// 10), and answers InstanceStatuses.InstanceStatus (InstanceId, Status),
// sorted by instance ID, with TotalCount. It is authenticated like the others.
//
// # Limits
//
// Only StartInstances, DescribeInstances and DescribeInstanceStatus exist (other actions answer
// InvalidAction.NotFound). There is no RAM: every registered credential may do
// everything. Error messages are ECS's documented ones, not byte-for-byte
// captures of a live service. Throttling is injected (SetFaults): counted
// call by call, or at a rate (Faults.Rate); the rate is a token bucket, not
// ECS's own (undocumented) per-API quota arithmetic.
//
// # Faults
//
// SetFaults injects, per action or for every call: Latency; Throttle,
// Unavailable and Internal (ECS's error answers, counted down call by call);
// Rate and Burst (a flow limit: calls past Rate a second, Burst at once, are
// answered Throttling.User as they arrive — e.g. Rate 20 with Latency 50 ms is
// the throttled ECS the benchmarks start 10,000 instances against);
// PerMinute and Minute (ECS's quota of a minute per API, region and account:
// calls past PerMinute in a window of Minute, one minute unless a test
// shortens it, are answered Throttling.User until the next window opens);
// Reset (a TCP reset without an answer); EndlessPages (DescribeInstances
// paged by NextToken names one more, empty page after every page, for ever);
// and Rewrite, a function that replaces
// the status and body of each answer after the call has taken effect. Rewrite
// is how tests get answers that ECS should not give but a client must survive
// — an entry for an instance the call did not name, a duplicated or missing
// entry, an answer without InstanceResponses, a proxy's HTML page, a secret
// echoed in RequestId, Code or a status — so it is as faithful as the test
// that writes it: the emulator still carried out the call as asked (the
// instances it started are Starting, whatever the rewritten answer says).
//
// # Out of stock
//
// SellOut(zone, until) runs a zone out of stock, as ECS's capacity does:
// an instance of the fleet in that zone (zoneId) stopped in economical mode
// (stoppedMode StopCharging, its resources released) then answers
// StartInstances with OperationDenied.NoStock, HTTP 403 (SuccessFirst: that
// instance's entry; AllTogether: the whole call), until until (zero: for
// ever) or RestoreStock(zone). An instance stopped in normal mode kept its
// resources and starts. An instance's startError "OperationDenied.NoStock"
// is the same answer for that instance alone, for ever or startErrorTimes
// times.
//
// # STS
//
// AssumeRole (Version 2015-04-01, sts.go) is answered on the same server,
// with the same signature and token checks, for the roles of
// Options.Roles: RoleSessionName 2 to 64 of [\w.@-], DurationSeconds 900 to
// 3600, ExternalId 2 to 1,224 of [\w+=,.@:/-] and, when the role names one
// (Role.ExternalID, its trust policy's sts:ExternalId condition), equal to
// it, else NoPermission; Policy a policy document of at most 2,048
// characters. Each is recorded in Call. The session policy is recorded, not
// enforced on the assumed credential's calls. Role.Expiration hands out an
// Expiration as given (in the past, or unreadable); SetFaults with Action
// "AssumeRole" and Latency makes STS slow.
//
// # Use
//
//	srv := ecsemu.New(ecsemu.Options{Fleet: fleet, Credentials: creds})
//	srv.Start()            // 127.0.0.1, a free port
//	defer srv.Close()
//	endpoint := srv.URL()  // e.g. ECS_ENDPOINT
//
// The server is safe for concurrent use; faults and instances may be changed
// while it serves.
package ecsemu
