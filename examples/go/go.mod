module vpnroute.example/vpnroute

go 1.19
