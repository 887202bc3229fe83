// hvigor build script of the sample project: hvigor's built-in app tasks, no plugins.
import { appTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: appTasks,
  plugins: [],
};
