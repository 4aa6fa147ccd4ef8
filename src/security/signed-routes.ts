import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { EventKind } from '../common/event-kinds.js';
import { SignedKindOf } from './route-metadata.js';

/** A route decorated `@SignedRequest(kind)`; `path` as Express matches it (`/core/update`). */
export interface SignedRoute {
  path: string;
  method: RequestMethod;
  kind: EventKind;
}

/**
 * The `@SignedRequest(kind)` routes, found from the decorators at start. The access log, the
 * metrics and `flow.log` follow this list rather than a table of paths, so renaming or adding a
 * signed route cannot silently drop it from any of them.
 */
@Injectable()
export class SignedRoutes {
  private found: SignedRoute[] | undefined;
  /** method → Express path → kind: the per-request lookup allocates nothing. */
  private index: Map<string, Map<string, EventKind>> | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Read lazily: middleware is configured before `onModuleInit` hooks run. */
  list(): SignedRoute[] {
    this.found ??= this.discover();
    return this.found;
  }

  /** The kind of event the route `method path` takes, if it is a signed route. */
  kindOf(method: string, path: string): EventKind | undefined {
    this.index ??= this.buildIndex();
    return this.index.get(method)?.get(path);
  }

  private discover(): SignedRoute[] {
    const routes: SignedRoute[] = [];
    for (const { metatype } of this.discovery.getControllers()) {
      if (!metatype) continue;
      const base = pathsOf(Reflect.getMetadata(PATH_METADATA, metatype));
      const prototype = metatype.prototype as Record<string, (...args: never[]) => unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        const kind = this.reflector.get(SignedKindOf, handler);
        if (!kind) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        for (const controllerPath of base)
          for (const handlerPath of pathsOf(Reflect.getMetadata(PATH_METADATA, handler)))
            routes.push({ path: joinPaths(controllerPath, handlerPath), method, kind });
      }
    }
    return routes;
  }

  private buildIndex(): Map<string, Map<string, EventKind>> {
    const index = new Map<string, Map<string, EventKind>>();
    for (const { method, path, kind } of this.list()) {
      const name = RequestMethod[method];
      if (!index.has(name)) index.set(name, new Map());
      index.get(name)!.set(path, kind);
    }
    return index;
  }
}

function pathsOf(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.map(String);
  return [typeof metadata === 'string' ? metadata : ''];
}

/** As Nest joins controller and handler paths for Express (the app sets no global prefix). */
function joinPaths(...parts: string[]): string {
  const segments = parts.flatMap((part) => part.split('/')).filter((segment) => segment !== '');
  return `/${segments.join('/')}`;
}
