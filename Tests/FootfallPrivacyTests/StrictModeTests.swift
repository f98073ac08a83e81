import FootfallCore
import FootfallIngest
import FootfallAggregate
import Testing

/// P5: strict mode — one key per zone, hourly rotation, no flows.
@Suite("P5 strict mode")
struct StrictModeTests {
    @Test func strictModeGivesUnrelatedPseudonymsForTheSameAddressInTwoZones() {
        let privacy = PrivacySettings(strict: true)
        let zones = 3
        let keys = KeyStore(slots: privacy.keySlotCount(zoneCount: zones))
        #expect(keys.slots == 3)
        let p = Pseudonymiser(keys: keys)
        let mac: UInt64 = 0x3C22_FB11_2233
        // Sensor 0 in zone 0 and sensor 1 in zone 2 hear the same phone.
        let inZone0 = p.observe(makeProbe(mac: mac), sensor: 0, keySlot: privacy.keySlot(sensorZone: 0))
        let inZone2 = p.observe(makeProbe(mac: mac), sensor: 1, keySlot: privacy.keySlot(sensorZone: 2))
        #expect(inZone0.device != inZone2.device)
        #expect(inZone0.fingerprint != inZone2.fingerprint)
        var unrelated = 0
        for i in 0 ..< 300 {
            let m = 0x0200_0000_0000 | UInt64(i)
            if pseudonym(of: m, keys: keys, slot: 0) != pseudonym(of: m, keys: keys, slot: 1) { unrelated += 1 }
        }
        #expect(unrelated == 300)
    }

    @Test func outsideStrictModeOneKeyLinksZones() {
        let privacy = PrivacySettings()
        #expect(privacy.keySlotCount(zoneCount: 3) == 1)
        #expect(privacy.keySlot(sensorZone: 2) == 0)
        #expect(privacy.flowsEnabled)
    }

    @Test func strictModeForcesHourlyRotationAndNoFlows() {
        let privacy = PrivacySettings(rotation: .daily(hour: 4, minute: 0), strict: true)
        #expect(privacy.effectiveRotation == .hourly)
        #expect(!privacy.flowsEnabled)
    }
}
