package ecsemu

import (
	"net/http"
	"testing"
	"time"
)

// A zone out of stock (SellOut) refuses, as ECS does, to start an instance
// stopped in economical mode there — OperationDenied.NoStock, HTTP 403 — in
// both batch modes, until the given time or RestoreStock; an instance
// stopped in normal mode keeps its resources and starts.
func TestEmuZoneOutOfStockAndBack(t *testing.T) {
	fleet, err := ParseFleet([]byte(`{"instances": [
 {"instanceId": "i-eco01", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "status": "Stopped", "stoppedMode": "StopCharging"},
 {"instanceId": "i-eco02", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "status": "Stopped", "stoppedMode": "StopCharging"},
 {"instanceId": "i-keep01", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "status": "Stopped", "stoppedMode": "KeepCharging"},
 {"instanceId": "i-other01", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-i", "status": "Stopped", "stoppedMode": "StopCharging"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, Options{Fleet: fleet})
	startOf := func(batch string, ids ...string) answer {
		return send(t, srv, http.MethodPost, signed(http.MethodPost, akCred, "StartInstances", startParams(batch, false, ids...)))
	}
	srv.SellOut("cn-hangzhou-h", time.Time{})
	wantError(t, startOf("AllTogether", "i-eco01", "i-other01"), 403, "OperationDenied.NoStock")
	a := startOf("SuccessFirst", "i-eco01", "i-keep01", "i-other01")
	want := map[string]string{"i-eco01": "OperationDenied.NoStock", "i-keep01": "200", "i-other01": "200"}
	for _, r := range instanceResponsesOf(t, a) {
		if r["Code"] != want[r["InstanceId"].(string)] {
			t.Errorf("%v, want %s", r, want[r["InstanceId"].(string)])
		}
	}
	srv.RestoreStock("cn-hangzhou-h")
	if a := startOf("AllTogether", "i-eco01"); a.status != 200 {
		t.Fatalf("after RestoreStock: %s", a.raw)
	}
	srv.SellOut("cn-hangzhou-h", time.Now().Add(100*time.Millisecond))
	wantError(t, startOf("AllTogether", "i-eco02"), 403, "OperationDenied.NoStock")
	time.Sleep(150 * time.Millisecond)
	if a := startOf("AllTogether", "i-eco02"); a.status != 200 {
		t.Fatalf("after the stock's return: %s", a.raw)
	}
}
