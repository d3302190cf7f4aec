package ecsemu

import "net/http"

// apiError is an error answer: ECS's code, HTTP status and message.
type apiError struct {
	status  int
	code    string
	message string
}

// knownErrors are the codes the emulator answers, with the HTTP status and
// message of ECS's documentation (the StartInstances error table, the
// API gateway's common error codes). A StartError or fault code not listed
// here answers 403 with a generic message.
var knownErrors = map[string]apiError{
	// Gateway: parameters, authentication, throttling.
	"MissingParameter":                           {http.StatusBadRequest, "", "The input parameter that is mandatory for processing this request is not supplied."},
	"InvalidParameter":                           {http.StatusBadRequest, "", "The specified parameter is not valid."},
	"InvalidParameter.NextToken":                 {http.StatusBadRequest, "", "The specified parameter NextToken is not valid."},
	"InvalidVersion":                             {http.StatusBadRequest, "", "Specified parameter Version is not valid."},
	"InvalidAction.NotFound":                     {http.StatusNotFound, "", "Specified api is not found, please check your url and method."},
	"InvalidSignatureMethod":                     {http.StatusBadRequest, "", "Specified signature method is not supported."},
	"InvalidSignatureVersion":                    {http.StatusBadRequest, "", "Specified signature version is not supported."},
	"InvalidTimeStamp.Format":                    {http.StatusBadRequest, "", "Specified time stamp or date value is not well formatted."},
	"InvalidTimeStamp.Expired":                   {http.StatusBadRequest, "", "Specified time stamp or date value is expired."},
	"InvalidAccessKeyId.NotFound":                {http.StatusNotFound, "", "Specified access key is not found."},
	"MissingSecurityToken":                       {http.StatusBadRequest, "", "SecurityToken is mandatory for this action."},
	"InvalidSecurityToken.Expired":               {http.StatusForbidden, "", "Specified SecurityToken is expired."},
	"InvalidSecurityToken.Malformed":             {http.StatusBadRequest, "", "Specified SecurityToken is malformed."},
	"InvalidSecurityToken.MismatchWithAccessKey": {http.StatusBadRequest, "", "Specified SecurityToken mismatch with the AccessKey."},
	"SignatureDoesNotMatch":                      {http.StatusBadRequest, "", "Specified signature is not matched with our calculation."},
	"SignatureNonceUsed":                         {http.StatusBadRequest, "", "Specified signature nonce was used already."},
	"Throttling.User":                            {http.StatusBadRequest, "", "Request was denied due to user flow control."},
	"Throttling":                                 {http.StatusBadRequest, "", "Request was denied due to request throttling."},
	"Forbidden.RAM":                              {http.StatusForbidden, "", "User not authorized to operate on the specified resource, or this API doesn't support RAM."},
	"InternalError":                              {http.StatusInternalServerError, "", "The request processing has failed due to some unknown error."},
	"ServiceUnavailable":                         {http.StatusServiceUnavailable, "", "The request has failed due to a temporary failure of the server."},

	// StartInstances.
	"DryRunOperation":                           {http.StatusBadRequest, "", "Request validation has been passed with DryRun flag set."},
	"DRYRUN.SUCCESS":                            {http.StatusBadRequest, "", "This request is a dryrun request with successful result."},
	"InvalidParameter.TooManyInstanceIds":       {http.StatusForbidden, "", "Instance ids cannot be more than 100."},
	"Abs.InvalidInstanceIds.MalFormed":          {http.StatusForbidden, "", "The specified instanceIds is not valid."},
	"InvalidInstanceIds.NotFound":               {http.StatusNotFound, "", "The specified InstanceIds does not exist."},
	"InvalidInstanceId.NotFound":                {http.StatusNotFound, "", "The specified InstanceId does not exist."},
	"InvalidInstanceIds.Malformed":              {http.StatusBadRequest, "", "The specified parameter InstanceIds is not valid."},
	"UnsupportedHTTPMethod":                     {http.StatusForbidden, "", "This http method is not supported."},
	"IncorrectInstanceStatus":                   {http.StatusForbidden, "", "The current status of the resource does not support this operation."},
	"InstanceLockedForSecurity":                 {http.StatusForbidden, "", "The specified operation is denied as your instance is locked for security reasons."},
	"InstanceExpiredOrInArrears":                {http.StatusForbidden, "", "The specified operation is denied as your prepay instance is expired (prepay mode) or in arrears (afterpay mode)."},
	"InsufficientBalance":                       {http.StatusForbidden, "", "Your account does not have enough balance."},
	"OperationDenied.NoStock":                   {http.StatusForbidden, "", "The requested resource is sold out in the specified zone; try other types of resources or other regions and zones."},
	"InvalidParameter.KMSKeyId.CMKNotEnabled":   {http.StatusBadRequest, "", "The CMK needs to be enabled."},
	"InvalidParameter.KMSKeyId.KMSUnauthorized": {http.StatusBadRequest, "", "ECS service account have no right to access your KMS."},
	"InvalidInstance.NotFoundSystemDisk":        {http.StatusForbidden, "", "The specified instance has no system disk."},
	"InstanceNotReady":                          {http.StatusForbidden, "", "The specified instance is not ready for use."},
	"InvalidOperation.Conflict":                 {http.StatusConflict, "", "Request was denied due to conflict with a previous request, please try again later."},
	"OperationConflict":                         {http.StatusConflict, "", "Request was denied due to conflict with a previous request."},
	"InstanceExpired":                           {http.StatusForbidden, "", "The instance is out of date and the operation cannot be performed."},
}

// ecsError builds the answer for code, with ECS's status and message when the
// code is known; message, when not empty, replaces the documented one.
func ecsError(code, message string) *apiError {
	e, ok := knownErrors[code]
	if !ok {
		e = apiError{status: http.StatusForbidden, message: "The operation failed: " + code + "."}
	}
	e.code = code
	if message != "" {
		e.message = message
	}
	return &e
}

func missingParameter(name string) *apiError {
	return ecsError("MissingParameter", `The input parameter "`+name+`" that is mandatory for processing this request is not supplied.`)
}

func invalidParameter(name string) *apiError {
	return ecsError("InvalidParameter", "The specified parameter "+name+" is not valid.")
}
