import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 server for `GET /metrics` in the Prometheus text format, bound to
/// loopback unless the configuration says otherwise (metrics are for the gateway operator).
///
/// Every other path answers 404, every other method 405; each response closes the
/// connection, which is all a scraper needs.
///
/// The endpoint is bound before the service group starts (``Gateway``): a port already taken
/// or an address the host does not have then stops `run` at once with an error, instead of
/// a collector that captures without the metrics its operator relies on.
public final class MetricsService: Service, CustomStringConvertible {
    private let host: String
    private let port: Int
    private let channel: any Channel
    private let logger: Logger

    /// - Parameter channel: the endpoint, already bound with ``bind(host:port:metrics:)``.
    public init(channel: any Channel, host: String, port: Int, logger: Logger) {
        self.host = host
        self.port = port
        self.channel = channel
        self.logger = logger
    }

    public var description: String { "MetricsService(\(host):\(port))" }

    public func run() async throws {
        logger.info("metrics endpoint listening", metadata: ["metrics.address": "\(host)", "metrics.port": "\(channel.localAddress?.port ?? port)"])
        // Serves until the group shuts it down (last, after the writer).
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// Binds the server and returns its channel (port 0 picks a free port: see
    /// `channel.localAddress`). Close the channel to stop it.
    public static func bind(host: String, port: Int, metrics: GatewayMetrics) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

/// Answers one request per connection.
final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: GatewayMetrics

    init(metrics: GatewayMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let status: HTTPResponseStatus
        let body: String
        var contentType = "text/plain; charset=utf-8"
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        if request.method != .GET && request.method != .HEAD {
            status = .methodNotAllowed
            body = "only GET\n"
        } else if path != "/metrics" {
            status = .notFound
            body = "footfall serves /metrics only\n"
        } else {
            status = .ok
            body = metrics.exposition()
            // Prometheus text exposition format 0.0.4.
            contentType = "text/plain; version=0.0.4; charset=utf-8"
        }
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        headers.add(name: "Connection", value: "close")
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
