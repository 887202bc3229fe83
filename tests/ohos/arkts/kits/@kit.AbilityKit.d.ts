// Stand-in for the SDK's kits/@kit.AbilityKit.d.ts, for the ArkTS lint: UIAbility and the
// context the sample reads its sandbox directory from.
import { window } from '@kit.ArkUI';

declare namespace common {
  class UIAbilityContext {
    readonly filesDir: string;
    readonly cacheDir: string;
  }
}

declare class UIAbility {
  context: common.UIAbilityContext;
  onCreate(want: Object, launchParam: Object): void;
  onWindowStageCreate(windowStage: window.WindowStage): void;
  onDestroy(): void | Promise<void>;
}

export { common, UIAbility };
