public enum FootfallPipelineVersion { public static let string = "0.1.0" }
