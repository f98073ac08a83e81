import Testing

@Test func privacyBuilds() { #expect(Bool(true)) }
