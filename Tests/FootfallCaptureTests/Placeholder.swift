import Testing

@Test func captureBuilds() { #expect(Bool(true)) }
