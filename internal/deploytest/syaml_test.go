package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/start-ecs/start-ecs/handler"
)

func TestSYamlIsAnFC3Project(t *testing.T) {
	for _, file := range deployFileNames(t) {
		doc := loadDeployFile(t, file)
		if got := doc["edition"]; got != "3.0.0" {
			t.Errorf("%s: edition = %v, want 3.0.0 (Serverless Devs 3)", file, got)
		}
		if name, _ := doc["name"].(string); name == "" {
			t.Errorf("%s: project name is empty", file)
		}
		res, _ := doc["resources"].(map[string]any)
		for name, r := range res {
			if c := str(r.(map[string]any), "component"); c != "fc3" {
				t.Errorf("%s: resource %s: component %q, want fc3", file, name, c)
			}
		}
	}
}

// compileFC3Schema compiles the fc3 component's published JSON Schema of props
// (devsapp/fc3 src/schema.json, copied into testdata).
func compileFC3Schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "fc3-props.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fc3-props.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("fc3-props.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// Both forms are checked: as written (what a validator that does not expand
// ${…} sees) and as `s` resolves it.
func TestPropsMatchFC3Schema(t *testing.T) {
	sch := compileFC3Schema(t)
	for _, r := range resources(t) {
		if err := sch.Validate(toJSON(t, r.raw)); err != nil {
			t.Errorf("%s: resource %s as written: %#v", r.file, r.name, err)
		}
		if err := sch.Validate(toJSON(t, r.resolved)); err != nil {
			t.Errorf("%s: resource %s resolved: %#v", r.file, r.name, err)
		}
	}
}

// The schema is loose (no additionalProperties: false, any object as a
// triggerConfig), so it cannot catch a misspelt key; this test does. A misspelt
// key is dropped silently by the component, leaving a setting at its default.
func TestPropsUseKnownKeys(t *testing.T) {
	knownProps := []string{"region", "functionName", "description", "runtime", "handler", "code",
		"memorySize", "timeout", "instanceConcurrency", "internetAccess", "role",
		"environmentVariables", "logConfig", "asyncInvokeConfig", "triggers", "cpu", "diskSize",
		"vpcConfig", "layers", "tags"}
	known := map[string][]string{
		"logConfig":                                     {"project", "logstore", "logBeginRule", "enableRequestMetrics", "enableInstanceMetrics"},
		"asyncInvokeConfig":                             {"maxAsyncRetryAttempts", "maxAsyncEventAgeInSeconds", "destinationConfig", "qualifier", "asyncTask"},
		"asyncInvokeConfig.destinationConfig":           {"onFailure", "onSuccess"},
		"asyncInvokeConfig.destinationConfig.onFailure": {"destination"},
		"asyncInvokeConfig.destinationConfig.onSuccess": {"destination"},
	}
	for _, r := range resources(t) {
		checkKeys(t, r.name, r.raw, knownProps)
		for path, keys := range known {
			if m := obj(r.raw, strings.Split(path, ".")...); m != nil {
				checkKeys(t, r.name+"."+path, m, keys)
			}
		}
	}
	knownTrigger := []string{"triggerName", "triggerType", "triggerConfig", "qualifier", "description", "invocationRole", "sourceArn"}
	knownConfig := map[string][]string{
		"timer":       {"cronExpression", "enable", "payload"},
		"http":        {"authType", "methods", "disableURLInternet", "authConfig"},
		"eventbridge": {"triggerEnable", "asyncInvocationType", "eventRuleFilterPattern", "eventSourceConfig", "eventSinkConfig", "runOptions"},
		"mns_topic":   {"notifyContentFormat", "notifyStrategy", "filterTag"},
	}
	knownEB := map[string][]string{
		"eventSourceConfig":                                           {"eventSourceType", "eventSourceParameters"},
		"eventSourceConfig.eventSourceParameters":                     {"sourceMNSParameters", "sourceRocketMQParameters", "sourceRabbitMQParameters", "sourceKafkaParameters"},
		"eventSourceConfig.eventSourceParameters.sourceMNSParameters": {"QueueName", "IsBase64Decode", "RegionId"},
		"eventSourceConfig.eventSourceParameters.sourceRocketMQParameters": {"RegionId", "InstanceId", "Topic", "Tag", "Offset", "Timestamp", "GroupID",
			"InstanceType", "InstanceEndpoint", "InstanceUsername", "InstancePassword", "FilterType", "AuthType", "InstanceVpcId", "InstanceVSwitchIds",
			"InstanceSecurityGroupId", "InstanceNetwork"},
		"eventSourceConfig.eventSourceParameters.sourceRabbitMQParameters": {"RegionId", "InstanceId", "VirtualHostName", "QueueName"},
		"eventSourceConfig.eventSourceParameters.sourceKafkaParameters": {"RegionId", "InstanceId", "Topic", "ConsumerGroup", "OffsetReset",
			"Network", "VpcId", "VSwitchIds", "SecurityGroupId"},
		// The FC API 2023-03-30 trigger model (structs EventSinkConfig,
		// DeliveryOption, RunOptions, BatchWindow, RetryStrategy,
		// DeadLetterQueue), which the fc3 schema leaves open: FC 2.0's
		// maximumTasks and EventBridge's own MaximumRetryAttempts and
		// MaximumEventAgeInSeconds are no fields of it.
		"eventSinkConfig":                {"deliveryOption"},
		"eventSinkConfig.deliveryOption": {"eventSchema", "concurrency"},
		"runOptions":                     {"mode", "batchWindow", "retryStrategy", "deadLetterQueue", "errorsTolerance"},
		"runOptions.batchWindow":         {"CountBasedWindow", "TimeBasedWindow"},
		"runOptions.retryStrategy":       {"PushRetryStrategy"},
		"runOptions.deadLetterQueue":     {"Arn"},
	}
	for _, tr := range triggers(t) {
		where := tr.function + "/" + tr.name
		checkKeys(t, where, tr.raw, knownTrigger)
		keys, ok := knownConfig[tr.typ]
		if !ok {
			t.Errorf("%s: triggerType %q is none of %v", where, tr.typ, sortedKeys(knownConfig))
			continue
		}
		checkKeys(t, where+".triggerConfig", tr.config, keys)
		if tr.typ == "eventbridge" {
			for path, keys := range knownEB {
				if m := obj(tr.config, strings.Split(path, ".")...); m != nil {
					checkKeys(t, where+"."+path, m, keys)
				}
			}
		}
	}
}

func checkKeys(t *testing.T, where string, m map[string]any, known []string) {
	t.Helper()
	for k := range m {
		if !slices.Contains(known, k) {
			t.Errorf("%s: unknown key %q (known: %s)", where, k, strings.Join(known, ", "))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestFunctionSettings(t *testing.T) {
	for _, r := range resources(t) {
		p := r.raw
		if p["runtime"] != "go1" {
			t.Errorf("%s: runtime %v, want go1", r.name, p["runtime"])
		}
		// The go1 runtime execs the handler file; scripts/build.sh names it main.
		if p["handler"] != "main" {
			t.Errorf("%s: handler %v, want main (the binary scripts/build.sh zips)", r.name, p["handler"])
		}
		if p["code"] != "./dist/start-ecs.zip" {
			t.Errorf("%s: code %v, want ./dist/start-ecs.zip (scripts/build.sh's output)", r.name, p["code"])
		}
		if p["instanceConcurrency"] != 1 {
			t.Errorf("%s: instanceConcurrency %v: FC 3.0's go1 runtime serves one invocation per instance", r.name, p["instanceConcurrency"])
		}
		// The schema checks timeout's and memorySize's ranges; what matters here is
		// that an HTTP caller's wait (HTTP_WAIT) plus the reporting margin fits.
		if to, _ := p["timeout"].(int); to < 10 {
			t.Errorf("%s: timeout %v s leaves no room for HTTP_WAIT (4 s) and retries", r.name, p["timeout"])
		}
		if str(p, "logConfig", "logBeginRule") != "None" {
			t.Errorf("%s: logConfig.logBeginRule must be None: every stdout line is one JSON entry", r.name)
		}
		role := str(r.resolved, "role")
		if !regexp.MustCompile(`^acs:ram::\d+:role/[a-z0-9-]+$`).MatchString(role) {
			t.Errorf("%s: role %q is not a RAM role ARN", r.name, role)
		}
		dest := str(r.resolved, "asyncInvokeConfig", "destinationConfig", "onFailure", "destination")
		if !regexp.MustCompile(`^acs:mns:[a-z0-9-]+:\d+:/queues/[A-Za-z0-9-]+/messages$`).MatchString(dest) {
			t.Errorf("%s: async onFailure destination %q is not an MNS queue ARN: failed async invocations would be dropped", r.name, dest)
		}
		if n, _ := obj(p, "asyncInvokeConfig")["maxAsyncRetryAttempts"].(int); n < 1 {
			t.Errorf("%s: async invocations must be retried (maxAsyncRetryAttempts >= 1)", r.name)
		}
	}
}

// The triggers the issue asks for, each with the configuration that makes it do
// what README.md says it does.
func TestEveryTriggerIsThere(t *testing.T) {
	trs := triggers(t)
	httpPerFunction := map[string]int{}
	names := map[string]bool{}
	var sources []string
	mnsTopics := 0
	for _, tr := range trs {
		key := tr.function + "/" + tr.name
		if names[key] {
			t.Errorf("trigger name %s is used twice", key)
		}
		names[key] = true
		switch tr.typ {
		case "mns_topic":
			mnsTopics++
			// MNS invokes the function as the role in invocationRole; without it,
			// or without the topic's ARN, the trigger cannot be created.
			if !regexp.MustCompile(`^acs:mns:[a-z0-9-]+:\d+:/topics/[A-Za-z0-9-]+$`).MatchString(str(tr.resolved, "sourceArn")) {
				t.Errorf("%s: sourceArn %q is not an MNS topic ARN", key, str(tr.resolved, "sourceArn"))
			}
			if !regexp.MustCompile(`^acs:ram::\d+:role/[A-Za-z0-9-]+$`).MatchString(str(tr.resolved, "invocationRole")) {
				t.Errorf("%s: invocationRole %q is not a RAM role ARN", key, str(tr.resolved, "invocationRole"))
			}
		case "http":
			httpPerFunction[tr.function]++
			methods, _ := tr.config["methods"].([]any)
			if len(methods) == 0 {
				t.Errorf("%s: no methods", key)
			}
		case "eventbridge":
			st := str(tr.config, "eventSourceConfig", "eventSourceType")
			sources = append(sources, st)
			mode := str(tr.config, "runOptions", "mode")
			if st == "Default" {
				if mode != "event-driven" || tr.config["asyncInvocationType"] != true {
					t.Errorf("%s: a default-bus rule should be event-driven and invoke asynchronously (asyncInvokeConfig's retries and destination apply)", key)
				}
				continue
			}
			if mode != "event-streaming" {
				t.Errorf("%s: %s source should be an event stream, got mode %q", key, st, mode)
			}
			if tr.config["asyncInvocationType"] != false {
				t.Errorf("%s: a queue trigger must invoke synchronously, or its retry strategy and dead-letter queue never see a failure", key)
			}
			run := obj(tr.config, "runOptions")
			if obj(run, "batchWindow") == nil || obj(run, "retryStrategy") == nil || obj(run, "deadLetterQueue") == nil {
				t.Errorf("%s: runOptions needs batchWindow, retryStrategy and deadLetterQueue", key)
			}
			if !slices.Contains([]string{"BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"}, str(run, "retryStrategy", "PushRetryStrategy")) {
				t.Errorf("%s: PushRetryStrategy %q", key, str(run, "retryStrategy", "PushRetryStrategy"))
			}
			if !slices.Contains([]string{"ALL", "NONE"}, str(run, "errorsTolerance")) {
				t.Errorf("%s: errorsTolerance %q is neither ALL nor NONE", key, str(run, "errorsTolerance"))
			}
			bw := obj(run, "batchWindow")
			if c, _ := bw["CountBasedWindow"].(int); c < 1 || c > 10000 {
				t.Errorf("%s: CountBasedWindow %v outside [1, 10000]", key, bw["CountBasedWindow"])
			}
			if s, ok := bw["TimeBasedWindow"].(int); !ok || s < 0 || s > 15 {
				t.Errorf("%s: TimeBasedWindow %v outside [0, 15] s", key, bw["TimeBasedWindow"])
			}
			if !regexp.MustCompile(`^acs:mns:[a-z0-9-]+:\d+:/queues/[A-Za-z0-9-]+$`).MatchString(str(run, "deadLetterQueue", "Arn")) {
				t.Errorf("%s: deadLetterQueue.Arn %q is not an MNS queue ARN", key, str(run, "deadLetterQueue", "Arn"))
			}
			if s := str(tr.config, "eventSinkConfig", "deliveryOption", "eventSchema"); s != "CloudEvents" {
				t.Errorf("%s: eventSchema %q: the function tells sources apart by the CloudEvents envelope", key, s)
			}
			// deliveryOption.concurrency is honoured for Kafka sources only;
			// a Kafka stream delivers one batch at a time, so that parallel
			// deliveries do not compete for the account's ECS quota.
			concurrency, set := obj(tr.config, "eventSinkConfig", "deliveryOption")["concurrency"]
			switch {
			case st == "Kafka" && concurrency != 1:
				t.Errorf("%s: deliveryOption.concurrency %v, want 1", key, concurrency)
			case st != "Kafka" && set:
				t.Errorf("%s: deliveryOption.concurrency applies to Kafka sources only", key)
			}
		}
	}
	if mnsTopics == 0 {
		t.Error("no MNS topic trigger, though the README offers that form")
	}
	for fn, n := range httpPerFunction {
		if n > 1 {
			t.Errorf("function %s has %d HTTP triggers; FC allows one per function and version", fn, n)
		}
	}
	for _, want := range []string{"MNS", "RocketMQ", "Kafka", "RabbitMQ", "Default"} {
		if !slices.Contains(sources, want) {
			t.Errorf("no EventBridge trigger with eventSourceType %s", want)
		}
	}
	authTypes := map[string]string{}
	for _, tr := range trs {
		if tr.typ == "http" {
			authTypes[str(tr.config, "authType")] = tr.function
		}
	}
	if authTypes["function"] == "" || authTypes["anonymous"] == "" {
		t.Errorf("want an HTTP trigger with authType function and one with anonymous, got %v", authTypes)
	}
}

// Each function's environment, as deployed, is a configuration the function
// accepts at start-up, and each HTTP trigger's authType matches HTTP_AUTH: an
// anonymous trigger must never reach a function that trusts the trigger.
func TestEnvironmentIsAValidConfig(t *testing.T) {
	for _, r := range resources(t) {
		env := map[string]string{}
		for k, v := range obj(r.resolved, "environmentVariables") {
			env[k] = v.(string)
		}
		cfg, err := handler.ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		if cfg.DefaultRegionID != str(r.raw, "region") {
			t.Errorf("%s: DEFAULT_REGION_ID %q differs from the function's region %q", r.name, cfg.DefaultRegionID, str(r.raw, "region"))
		}
		if len(cfg.SkipDates) == 0 || cfg.TimeZone.String() != "Asia/Shanghai" {
			t.Errorf("%s: no holiday calendar: SKIP_DATES %v in TIME_ZONE %s, want dates in Asia/Shanghai (the timers' CRON_TZ)", r.name, cfg.SkipDates, cfg.TimeZone)
		}
		if cfg.RestartTag == nil {
			t.Errorf("%s: without RESTART_TAG the ecs-stopped trigger's events are all ignored", r.name)
		}
		var size int
		for k, v := range env {
			size += len(k) + len(v)
		}
		if size > 4096 {
			t.Errorf("%s: environment is %d bytes; FC allows 4 KB in all", r.name, size)
		}
		list, _ := r.resolved["triggers"].([]any)
		for _, e := range list {
			tr := e.(map[string]any)
			if str(tr, "triggerType") != "http" {
				continue
			}
			switch auth := str(tr, "triggerConfig", "authType"); auth {
			case "anonymous":
				if cfg.HTTPAuth != handler.AuthSecret || cfg.WebhookSecret == "" {
					t.Errorf("%s: anonymous HTTP trigger needs HTTP_AUTH=secret and WEBHOOK_SECRET, got HTTP_AUTH=%q", r.name, cfg.HTTPAuth)
				}
			case "function", "jwt":
				if cfg.HTTPAuth != handler.AuthTrigger {
					t.Errorf("%s: authType %s wants HTTP_AUTH=trigger, got %q", r.name, auth, cfg.HTTPAuth)
				}
			default:
				t.Errorf("%s: authType %q", r.name, auth)
			}
		}
	}
}

// Every variable the deploy shell must export is documented.
func TestDeployVariablesAreDocumented(t *testing.T) {
	deployDoc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range deployFileNames(t) {
		doc := loadDeployFile(t, file)
		r := newResolver(t, doc, deployEnv)
		if _, err := r.resolve(doc["resources"]); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(r.envNames) == 0 {
			t.Fatalf("%s reads no ${env(…)} variable", file)
		}
		for name := range r.envNames {
			if !strings.Contains(string(deployDoc), name) {
				t.Errorf("docs/deploy.md does not mention %s, which %s reads at deploy time", name, file)
			}
		}
	}
}
