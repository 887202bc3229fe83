// Stand-in for the SDK's kits/@kit.ArkUI.d.ts, for the ArkTS lint: window.WindowStage and
// router.pushUrl.
declare namespace window {
  interface BusinessError {
    code: number;
    message: string;
  }
  type AsyncCallback<T> = (err: BusinessError, data: T) => void;
  interface WindowStage {
    loadContent(path: string, callback: AsyncCallback<void>): void;
  }
}

declare namespace router {
  interface RouterOptions {
    url: string;
    params?: Object;
  }
  function pushUrl(options: RouterOptions): Promise<void>;
}

export { window, router };
