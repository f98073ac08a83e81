import Testing

@Test func pipelineBuilds() { #expect(Bool(true)) }
