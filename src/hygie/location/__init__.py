"""Indoor location: venue maps, WiFi positioning, asset tracking, geofences, wayfinding."""
