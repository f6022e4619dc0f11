import type { DemoSubject } from './types.js';

/**
 * The curriculum: subjects, weekly hours per grade (after the federal basic plans, a five-day week), which
 * subjects are split into two subgroups, how each is assessed, and topic titles for the lessons.
 */
export interface SubjectPlan extends DemoSubject {
  /** Weekly lessons for grades 1…11 (index 0 = grade 1). */
  hours: readonly number[];
  /** Taught in two subgroups from this grade on. */
  splitFrom?: number;
  /** Taught by the primary class teacher in grades 1–4. */
  primaryTeacher?: boolean;
  /** Pass / fail instead of points. */
  passFail?: boolean;
  /** Control works every n-th lesson (0 = none); labs and essays likewise. */
  controlEvery: number;
  labEvery?: number;
  essayEvery?: number;
  topics: readonly string[];
}

const h = (...hours: number[]) => hours;

export const CURRICULUM: readonly SubjectPlan[] = [
  { id: 'subj-rus', name: 'Русский язык', shortName: 'Рус.яз.', hours: h(5, 5, 5, 5, 5, 6, 4, 3, 3, 2, 2), primaryTeacher: true, controlEvery: 9, essayEvery: 15,
    topics: ['Звуки и буквы', 'Состав слова', 'Имя существительное', 'Имя прилагательное', 'Глагол', 'Правописание безударных гласных', 'Причастный оборот', 'Деепричастие', 'Сложноподчинённое предложение', 'Пунктуация в сложном предложении', 'Словарный диктант', 'Работа над ошибками'] },
  { id: 'subj-read', name: 'Литературное чтение', shortName: 'Лит.чт.', hours: h(4, 4, 4, 3, 0, 0, 0, 0, 0, 0, 0), primaryTeacher: true, controlEvery: 12,
    topics: ['Устное народное творчество', 'Сказки А. С. Пушкина', 'Басни И. А. Крылова', 'Рассказы о природе', 'Стихи о Родине', 'Внеклассное чтение'] },
  { id: 'subj-lit', name: 'Литература', shortName: 'Лит-ра', hours: h(0, 0, 0, 0, 3, 3, 2, 2, 3, 3, 3), controlEvery: 12, essayEvery: 10,
    topics: ['«Слово о полку Игореве»', 'А. С. Пушкин. Лирика', 'М. Ю. Лермонтов. «Мцыри»', 'Н. В. Гоголь. «Мёртвые души»', 'И. С. Тургенев. «Отцы и дети»', 'Л. Н. Толстой. «Война и мир»', 'Ф. М. Достоевский', 'Поэзия Серебряного века'] },
  { id: 'subj-eng', name: 'Английский язык', shortName: 'Англ.яз.', hours: h(0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3), splitFrom: 2, controlEvery: 10,
    topics: ['Present Simple', 'My family', 'Present Continuous', 'At school', 'Past Simple', 'Travelling', 'Future forms', 'Conditionals', 'Passive Voice', 'Reported speech'] },
  { id: 'subj-math', name: 'Математика', shortName: 'Матем.', hours: h(4, 4, 4, 4, 5, 5, 0, 0, 0, 0, 0), primaryTeacher: true, controlEvery: 8,
    topics: ['Сложение и вычитание', 'Таблица умножения', 'Деление с остатком', 'Натуральные числа', 'Обыкновенные дроби', 'Десятичные дроби', 'Проценты', 'Координатная плоскость', 'Уравнения'] },
  { id: 'subj-alg', name: 'Алгебра', shortName: 'Алгебра', hours: h(0, 0, 0, 0, 0, 0, 3, 3, 3, 4, 4), controlEvery: 8,
    topics: ['Линейные уравнения', 'Степень с натуральным показателем', 'Многочлены', 'Формулы сокращённого умножения', 'Квадратные корни', 'Квадратные уравнения', 'Функции и графики', 'Тригонометрия', 'Производная', 'Логарифмы'] },
  { id: 'subj-geom', name: 'Геометрия', shortName: 'Геом.', hours: h(0, 0, 0, 0, 0, 0, 2, 2, 2, 3, 3), controlEvery: 8,
    topics: ['Треугольники', 'Признаки равенства треугольников', 'Параллельные прямые', 'Четырёхугольники', 'Теорема Пифагора', 'Подобие треугольников', 'Окружность', 'Векторы', 'Многогранники'] },
  { id: 'subj-stat', name: 'Вероятность и статистика', shortName: 'ВиС', hours: h(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1), controlEvery: 10,
    topics: ['Описательная статистика', 'Случайные события', 'Вероятность события', 'Комбинаторика', 'Случайные величины'] },
  { id: 'subj-world', name: 'Окружающий мир', shortName: 'Окр.мир', hours: h(2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0), primaryTeacher: true, controlEvery: 12,
    topics: ['Природа и человек', 'Времена года', 'Растения и животные', 'Наш край', 'Человек и общество', 'Безопасность'] },
  { id: 'subj-inf', name: 'Информатика', shortName: 'Информ.', hours: h(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1), splitFrom: 7, controlEvery: 8,
    topics: ['Информация и её кодирование', 'Системы счисления', 'Алгоритмы', 'Программирование на Python', 'Электронные таблицы', 'Базы данных', 'Компьютерные сети'] },
  { id: 'subj-hist', name: 'История', shortName: 'История', hours: h(0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2), controlEvery: 10,
    topics: ['Древний мир', 'Средние века', 'Русь в IX–XII веках', 'Московское государство', 'Россия в XVIII веке', 'Россия в XIX веке', 'Новейшая история'] },
  { id: 'subj-soc', name: 'Обществознание', shortName: 'Общ-во', hours: h(0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2), controlEvery: 10,
    topics: ['Человек и общество', 'Экономика', 'Право', 'Политика', 'Социальная сфера'] },
  { id: 'subj-geo', name: 'География', shortName: 'Геогр.', hours: h(0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 1), controlEvery: 10,
    topics: ['План и карта', 'Литосфера', 'Гидросфера', 'Атмосфера', 'Материки и океаны', 'География России'] },
  { id: 'subj-bio', name: 'Биология', shortName: 'Биол.', hours: h(0, 0, 0, 0, 1, 1, 1, 2, 2, 1, 1), controlEvery: 10, labEvery: 7,
    topics: ['Клетка', 'Растения', 'Животные', 'Человек и его здоровье', 'Генетика', 'Экология'] },
  { id: 'subj-phys', name: 'Физика', shortName: 'Физика', hours: h(0, 0, 0, 0, 0, 0, 2, 2, 3, 2, 2), controlEvery: 9, labEvery: 6,
    topics: ['Механическое движение', 'Силы в природе', 'Давление', 'Работа и мощность', 'Тепловые явления', 'Электрические явления', 'Электромагнитные явления', 'Оптика'] },
  { id: 'subj-chem', name: 'Химия', shortName: 'Химия', hours: h(0, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1), controlEvery: 9, labEvery: 6,
    topics: ['Атомы и молекулы', 'Периодический закон', 'Химическая связь', 'Растворы', 'Окислительно-восстановительные реакции', 'Органическая химия'] },
  { id: 'subj-music', name: 'Музыка', shortName: 'Музыка', hours: h(1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), controlEvery: 0,
    topics: ['Музыка вокруг нас', 'Русская народная музыка', 'Классическая музыка', 'Музыкальный театр'] },
  { id: 'subj-art', name: 'Изобразительное искусство', shortName: 'ИЗО', hours: h(1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), primaryTeacher: true, controlEvery: 0,
    topics: ['Рисунок', 'Живопись', 'Декоративно-прикладное искусство', 'Народные промыслы'] },
  { id: 'subj-tech', name: 'Труд (технология)', shortName: 'Труд', hours: h(1, 1, 1, 1, 2, 2, 2, 1, 0, 0, 0), primaryTeacher: true, controlEvery: 0,
    topics: ['Работа с бумагой', 'Обработка древесины', 'Кулинария', 'Робототехника', 'Проектная работа'] },
  { id: 'subj-orkse', name: 'Основы религиозных культур и светской этики', shortName: 'ОРКСЭ', hours: h(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), primaryTeacher: true, passFail: true, controlEvery: 0,
    topics: ['Мораль и нравственность', 'Культура и традиции', 'Семья', 'Долг и совесть'] },
  { id: 'subj-obzr', name: 'Основы безопасности и защиты Родины', shortName: 'ОБЗР', hours: h(0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1), controlEvery: 10,
    topics: ['Безопасность в быту', 'Первая помощь', 'Чрезвычайные ситуации', 'Основы обороны государства'] },
  { id: 'subj-pe', name: 'Физическая культура', shortName: 'Физ-ра', hours: h(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2), controlEvery: 0,
    topics: ['Лёгкая атлетика', 'Гимнастика', 'Спортивные игры', 'Лыжная подготовка', 'Плавание'] },
];

export function hoursOf(subject: SubjectPlan, grade: number): number {
  return subject.hours[grade - 1] ?? 0;
}

export function subjectsOfGrade(grade: number): SubjectPlan[] {
  return CURRICULUM.filter((s) => hoursOf(s, grade) > 0);
}

export function isSplit(subject: SubjectPlan, grade: number): boolean {
  return subject.splitFrom !== undefined && grade >= subject.splitFrom;
}

export function planOf(subjectId: string): SubjectPlan {
  const plan = CURRICULUM.find((s) => s.id === subjectId);
  if (!plan) throw new Error(`unknown subject ${subjectId}`);
  return plan;
}
